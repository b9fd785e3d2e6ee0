// Package apitest holds test data for the API's JSON: what its encoders
// and decoders must carry exactly.
package apitest

// AwkwardNames are names that JSON must escape or carry exactly: quotes,
// backslashes, control characters, HTML's characters, the line and
// paragraph separators, the characters that turn text around, invalid
// UTF-8 and characters beyond the BMP.
func AwkwardNames() []string {
	return []string{
		"plain.txt", `say "hi"`, `back\slash`, "tab\there", "nl\nand\rcr", "\x00\x01\x1f\x7f",
		"\b\f", "<script>&amp;</script>", "line\u2028para\u2029", "\u202eevil\u202c.txt",
		"\u2066isolate\u2069", "\u200f\u200e", "\xff\xfe", "a\xc3", "ok\xe2\x80", "😀 emoji",
		"\u0085\u00a0", "ü", "\ufffd", "",
	}
}
