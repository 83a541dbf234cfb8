package sapb1sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"
)

// slError is an answer in SAP's v1 error envelope:
//
//	{"error":{"code":-10,"message":{"lang":"en-us","value":"…"}}}
//
// Codes and statuses follow reference §A2; where SAP's text is known it is
// used word for word, including its double spaces before a locator
// ("… inventory  [DocumentLines.ItemCode][line: 2]").
type slError struct {
	status int
	code   int
	msg    string
}

func (e *slError) Error() string { return fmt.Sprintf("SAP %d (HTTP %d): %s", e.code, e.status, e.msg) }

func (e *slError) body() []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": map[string]string{"lang": "en-us", "value": e.msg},
	}})
	return b
}

func newErr(status, code int, format string, args ...any) *slError {
	return &slError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// The SAP errors the simulator answers with.

// errSession is 401/301: no session, or it timed out.
func errSession() *slError {
	return newErr(http.StatusUnauthorized, 301, "Invalid session or session already timeout.")
}

// errLogin is a failed login (reference §A1: 100000027, C1).
func errLogin() *slError { return newErr(http.StatusUnauthorized, 100000027, "Login failed") }

// errNotFound is -2028 for a key that does not exist (404 on GET/PATCH by key,
// 400 when a referenced master record is missing on POST).
func errNotFound(status int) *slError {
	return newErr(status, -2028, "No matching records found (ODBC -2028)")
}

// errDuplicate is -2035: the key exists (tables without a business message).
func errDuplicate() *slError {
	return newErr(http.StatusBadRequest, -2035, "This entry already exists in the following tables (ODBC -2035)")
}

// errChanged is -2039, used ONLY for a stale If-Match: the object changed
// since the client read it.
func errChanged() *slError {
	return newErr(http.StatusPreconditionFailed, -2039, "Another user or another operation modified data; to continue, open the window again (ODBC -2039)")
}

// errRule is -10, SAP's generic business-rule failure.
func errRule(format string, args ...any) *slError {
	return newErr(http.StatusBadRequest, -10, format, args...)
}

// errValidation is -5002, SAP's generic validation failure.
func errValidation(format string, args ...any) *slError {
	return newErr(http.StatusBadRequest, -5002, format, args...)
}

// errNotSupported is -5006, e.g. DELETE of a document.
func errNotSupported() *slError {
	return newErr(http.StatusBadRequest, -5006, "The requested action is not supported for this object")
}

// errReadOnly is -1029 for a PATCH that tries to change a key.
func errReadOnly() *slError {
	return newErr(http.StatusBadRequest, -1029, "Field cannot be updated (ODBC -1029)")
}

// errQuery is -1000, the code SAP answers with for a request it cannot
// interpret: a malformed $batch (SLG §3.9), an invalid $crossjoin, and an
// unknown property in $select or $filter ("Property 'DocStatus' of
// 'Document' is invalid", seen in integrators' code). The simulator uses it
// for every query option or body it cannot parse.
func errQuery(format string, args ...any) *slError {
	return newErr(http.StatusBadRequest, -1000, format, args...)
}

// errProperty is -1000 for a property the entity does not have.
func errProperty(name, typ string) *slError {
	return errQuery("Property '%s' of '%s' is invalid", name, typ)
}

// errResource is 404 for a path that names no entity set or action. SAP's
// exact text is not in the reference; this is OData's usual wording.
func errResource(segment string) *slError {
	return newErr(http.StatusNotFound, -1, "Resource not found for the segment '%s'.", segment)
}

// errDeadlock is what a SQL Server deadlock looks like through the Service
// Layer. Integrators see deadlocks as a generic internal error (reference
// §C6, C1); the simulator answers 500 with code -2038, the code SAP's DI
// layer uses for "Internal error", and SQL Server's deadlock text (error
// 1205), so a client can tell it apart from a business rejection: the
// document was NOT added, and retrying is safe.
func errDeadlock() *slError {
	return newErr(http.StatusInternalServerError, -2038,
		"Internal error (-2038) occurred: Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.")
}

// asSLError turns a database error into the SAP error a client would see.
// Deadlocks and serialisation failures between concurrent postings become
// errDeadlock; anything else is a bug of the simulator and surfaces as an
// internal error with the cause.
func asSLError(err error) (*slError, bool) {
	var sl *slError
	if errors.As(err, &sl) {
		return sl, false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40P01", "40001", "55P03":
			return errDeadlock(), true
		case "23505":
			return errDuplicate(), false
		}
	}
	return newErr(http.StatusInternalServerError, -1, "Internal error: %v", err), false
}
