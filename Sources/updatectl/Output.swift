import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

// Human-readable output. A message line may carry values from outside — a server's metadata, a
// registry's annotations, a command's output, a state file — so the line printers write its
// control characters (C0 with the newline and the carriage return, DEL, C1, the bidirectional
// overrides) as visible escapes (`VisibleText`): a value can neither forge a line nor move the
// cursor. Rendered text of many lines (a lint report, a plan, a status, help) is written by
// `printText` and `printErrorText` as it is: its renderer escapes the values it takes from outside.

/// One message line on standard output.
func printLine(_ line: String) {
    print(VisibleText.escape(line))
}

/// One message line on standard error (`error: …`, `warning: …`).
func printError(_ line: String) {
    printErrorText(VisibleText.escape(line) + "\n")
}

/// Rendered text on standard output, as it is.
func printText(_ text: String) {
    print(text, terminator: "")
}

/// Rendered text on standard error, as it is, after what standard output holds.
func printErrorText(_ text: String) {
    // Keep the order of what was printed: standard output may be buffered (a pipe).
    fflush(nil)
    FileDescriptorWriter.write(text, to: 2)
}
