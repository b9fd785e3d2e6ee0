package backend

// SetTreePage sets how many entries a folder archive job handles between
// saves of its place, until the returned func restores it.
func SetTreePage(n int) func() {
	old := treePage
	treePage = n
	return func() { treePage = old }
}
