package sqlreader

// ConnectionsInUse is how many of the reader's connections are busy: a
// query whose rows are not read to the end keeps its connection.
func ConnectionsInUse(r *Reader) int { return r.db.Stats().InUse }
