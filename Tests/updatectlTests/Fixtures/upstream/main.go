// A command-line front end to KubeSolo OS's state package (state/state.go, its upstream source
// at commit 9fb894c5, unchanged), so that tests can read, write and transition state files
// exactly as the Go agent does.
//
//	gostate load PATH                         print the state as the agent reads it
//	gostate save PATH                         load, then save (the agent's rewrite)
//	gostate transition PATH PHASE [TO [ERR]]  Transition, as the agent's commands do
//	gostate from PATH VERSION                 SetFromVersion, then save
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"kubesolotest/state"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gostate load|save|transition|from PATH ...")
		os.Exit(2)
	}
	path := os.Args[2]
	s, err := state.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch os.Args[1] {
	case "load":
		out, _ := json.Marshal(s)
		fmt.Println(string(out))
	case "save":
		err = s.Save(path)
	case "transition":
		to, msg := "", ""
		if len(os.Args) > 4 {
			to = os.Args[4]
		}
		if len(os.Args) > 5 {
			msg = os.Args[5]
		}
		err = s.Transition(path, state.Phase(os.Args[3]), to, msg)
	case "from":
		s.SetFromVersion(os.Args[3])
		err = s.Save(path)
	default:
		err = fmt.Errorf("unknown command %s", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
