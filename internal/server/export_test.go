package server

// Close releases what New built (origins, caches, key sources, the token
// store), for tests that build a Server and never Run it.
func (s *Server) Close() { s.close() }
