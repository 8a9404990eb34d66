extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends.
    package var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" || first == "\r" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

extension String {
    /// Whether the UTF-8 of the string holds `byte`, read in place where the string keeps its
    /// bytes contiguously (it does unless bridged): every command argument and address is asked.
    func containsByte(_ byte: UInt8) -> Bool {
        utf8.withContiguousStorageIfAvailable { $0.contains(byte) } ?? utf8.contains(byte)
    }
}
