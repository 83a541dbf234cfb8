package tsql

import "fmt"

// Error is a SQL Server error as a client sees it: its number, state, class
// (severity) and message, and the line of the batch it concerns. The TDS
// layer sends it as an ERROR token, so numbers and texts follow the real
// server's catalogue (sys.messages) wherever the simulator has an equivalent.
type Error struct {
	Number  int32
	State   uint8
	Class   uint8
	Message string
	Line    int32
}

func (e *Error) Error() string {
	return fmt.Sprintf("mssql: error %d, state %d, class %d, line %d: %s", e.Number, e.State, e.Class, e.Line, e.Message)
}

// errorf builds a class 16 (user-correctable) error, the class of every
// syntax, name-resolution and conversion error the simulator reports.
func errorf(number int32, line int, format string, args ...any) *Error {
	return &Error{Number: number, State: 1, Class: 16, Message: fmt.Sprintf(format, args...), Line: int32(line)}
}

// Errorf is errorf for the TDS layer.
func Errorf(number int32, line int, format string, args ...any) *Error {
	return errorf(number, line, format, args...)
}

// Numbers of the errors the package raises, named for the callers that test
// for them.
const (
	ErrSyntax           = 102   // Incorrect syntax near '%s'.
	ErrUnclosedQuote    = 105   // Unclosed quotation mark after the character string '%s'.
	ErrMissingEndComm   = 113   // Missing end comment mark '*/'.
	ErrSyntaxKeyword    = 156   // Incorrect syntax near the keyword '%s'.
	ErrUnknownFunc      = 195   // '%s' is not a recognized built-in function name.
	ErrInvalidColumn    = 207   // Invalid column name '%s'.
	ErrInvalidObject    = 208   // Invalid object name '%s'.
	ErrAmbiguousColumn  = 209   // Ambiguous column name '%s'.
	ErrMustDeclare      = 137   // Must declare the scalar variable "%s".
	ErrPermission       = 229   // The %s permission was denied on the object ...
	ErrConversion       = 245   // Conversion failed when converting the %s value '%s' to data type %s.
	ErrDateConversion   = 241   // Conversion failed when converting date and/or time from character string.
	ErrTypeClash        = 206   // Operand type clash: %s is incompatible with %s
	ErrUnknownType      = 2715  // Column, parameter, or variable #%d: Cannot find data type %s.
	ErrMultiPart        = 4104  // The multi-part identifier "%s" could not be bound.
	ErrNonBoolean       = 4145  // An expression of non-boolean type specified in a context where a condition is expected
	ErrConvertParam     = 8114  // Error converting data type %s to %s.
	ErrOverflow         = 8115  // Arithmetic overflow error converting %s to data type %s.
	ErrDivideByZero     = 8134  // Divide by zero error encountered.
	ErrNotInGroupBy     = 8120  // Column '%s' is invalid in the select list because ...
	ErrOrderNotInGroup  = 8127  // Column "%s" is invalid in the ORDER BY clause because ...
	ErrUnsupported      = 40517 // Keyword or statement option '%s' is not supported in this version of SQL Server.
	ErrOperandInvalid   = 8117  // Operand data type %s is invalid for %s operator.
	ErrArgumentInvalid  = 8116  // Argument data type %s is invalid for argument %d of %s function.
	ErrArgCount         = 174   // The %s function requires %d argument(s).
	ErrAggregateInWhere = 147   // An aggregate may not appear in the WHERE clause ...
	ErrNestedAggregate  = 130   // Cannot perform an aggregate function on an expression containing an aggregate or a subquery.
	ErrDistinctOrderBy  = 145   // ORDER BY items must appear in the select list if SELECT DISTINCT is specified.
	ErrOrderByConstant  = 408   // A constant expression was encountered in the ORDER BY list, position %d.
	ErrOrderByRange     = 108   // The ORDER BY position number %d is out of range of the number of items in the select list.
	ErrTopNegative      = 1014  // A TOP N or FETCH rows count value may not be negative.
	ErrTopAndOffset     = 10741 // A TOP can not be used in the same query or sub-query as a OFFSET.
	ErrOffsetNegative   = 10742 // The offset specified in a OFFSET clause may not be negative.
	ErrFetchZero        = 10744 // The number of rows provided for a FETCH clause must be greater then zero.
	ErrSameExposedNames = 1013  // The objects "%s" and "%s" in the FROM clause have the same exposed names.
	ErrUnknownSetOption = 195   // '%s' is not a recognized SET option. (same number as an unknown function)
	ErrNoStarTable      = 263   // Must specify table to select from.
	ErrBadHint          = 321   // "%s" is not a recognized table hints option.
	ErrGroupAggregate   = 144   // Cannot use an aggregate or a subquery in an expression used for the group by list of a GROUP BY clause.
	ErrStringTruncated  = 2628  // String or binary data would be truncated ...
)
