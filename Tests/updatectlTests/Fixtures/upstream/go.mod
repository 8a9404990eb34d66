module kubesolotest

go 1.19
