package signapi

// Routes returns the path and method of every route the handler serves.
func Routes() map[string]string {
	out := map[string]string{}
	for path, rt := range routes {
		out[path] = rt.method
	}
	return out
}

// ErrorCodes returns every public error code.
func ErrorCodes() []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.name
	}
	return out
}

// SetCompare replaces the constant-time compare Lookup uses until the
// returned function restores it.
func SetCompare(f func(a, b []byte) int) (restore func()) {
	old := constantTimeCompare
	constantTimeCompare = f
	return func() { constantTimeCompare = old }
}
