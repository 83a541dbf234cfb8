package tds

// DelayRequests makes every request start late, as on a loaded machine.
func DelayRequests(s *Server, f func()) { s.beforeRequest = f }
