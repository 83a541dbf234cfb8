// Package tsql reads the T-SQL subset the SAP simulator's SQL Server
// endpoint accepts and translates it into parameterised Postgres SQL over
// the company's schema. Values never enter the SQL text: literals,
// parameters and session values are bind parameters, converted in Go with
// SQL Server's rules where SQL Server would convert them.
//
// # Grammar
//
//	batch      = { statement [";"] }
//	statement  = select | set | "BEGIN" ("TRAN"|"TRANSACTION") [name]
//	           | ("COMMIT"|"ROLLBACK") ["TRAN"|"TRANSACTION"|"WORK"] [name]
//	           | "SAVE" ("TRAN"|"TRANSACTION") name | "USE" database
//	select     = "SELECT" ["DISTINCT"|"ALL"] ["TOP" (integer | "(" (integer|@param) ")")]
//	             item {"," item}
//	             ["FROM" table {join}] ["WHERE" cond]
//	             ["GROUP BY" expr {"," expr}] ["HAVING" cond]
//	             ["ORDER BY" expr ["ASC"|"DESC"] {"," …}
//	               ["OFFSET" n ("ROW"|"ROWS") ["FETCH" ("NEXT"|"FIRST") n ("ROW"|"ROWS") "ONLY"]]]
//	item       = "*" | qualifier ".*" | expr [["AS"] alias] | alias "=" expr
//	table      = [[db "."] schema "."] name [["AS"] alias] [["WITH"] "(" hint {[","] hint} ")"]
//	join       = ["INNER"] "JOIN" table "ON" cond | ("LEFT"|"RIGHT"|"FULL") ["OUTER"] "JOIN" table "ON" cond
//	           | "CROSS JOIN" table | "," table
//	cond       = cond "OR" cond | cond "AND" cond | "NOT" cond | "(" cond ")"
//	           | expr ("="|"<>"|"!="|"<"|"<="|">"|">="|"!<"|"!>") expr
//	           | expr ["NOT"] "IN" "(" expr {"," expr} ")"
//	           | expr ["NOT"] "BETWEEN" expr "AND" expr
//	           | expr ["NOT"] "LIKE" pattern ["ESCAPE" char] | expr "IS" ["NOT"] "NULL"
//	expr       = expr ("+"|"-"|"*"|"/"|"%") expr | "-" expr | "(" expr ")"
//	           | column | literal | @param | @@variable
//	           | "CAST" "(" expr "AS" type ")" | "CONVERT" "(" type "," expr ["," style] ")"
//	           | "CASE" [expr] "WHEN" … "THEN" expr … ["ELSE" expr] "END"
//	           | COUNT(*) | COUNT_BIG(*) | (COUNT|COUNT_BIG|SUM|AVG|MIN|MAX) "(" ["DISTINCT"] expr ")"
//	           | ISNULL(a, b) | COALESCE(a, b, …) | NULLIF(a, b) | UPPER | LOWER | LTRIM | RTRIM | LEN
//	           | ABS | ROUND(x, n[, f]) | GETDATE() | GETUTCDATE() | SYSDATETIME() | DB_NAME()
//	           | SERVERPROPERTY('…') | SCHEMA_NAME() | USER_NAME() | APP_NAME() | HOST_NAME()
//	literal    = 'text' (with '' for a quote) | N'text' | 123 | 1.50 | 1e3 | NULL
//	type       = int | bigint | smallint | tinyint | bit | decimal(p,s) | numeric(p,s) | money
//	           | float | real | [n]varchar(n|max) | [n]char(n) | datetime | smalldatetime | date
//	           | datetime2(n) | datetimeoffset(n) | time(n)
//	hint       = NOLOCK | READUNCOMMITTED | READCOMMITTED | READCOMMITTEDLOCK | REPEATABLEREAD
//	           | SERIALIZABLE | HOLDLOCK | ROWLOCK | PAGLOCK | TABLOCK | NOWAIT | READPAST | SNAPSHOT
//	           | UPDLOCK | XLOCK | TABLOCKX | FORCESEEK | FORCESCAN | NOEXPAND | INDEX(…)
//
// Identifiers may be [bracketed] or "quoted" (QUOTED_IDENTIFIER ON);
// comments are -- and /* */ (nested). The schema may be dbo or omitted; a
// three-part name must name the current database.
//
// # Semantics kept from SQL Server
//
//   - Names of tables, columns, aliases and parameters are case-insensitive;
//     string comparisons, IN, BETWEEN, GROUP BY, DISTINCT, MIN/MAX and
//     ORDER BY use the company's case-insensitive collation, LIKE matches
//     case-insensitively with % _ [abc] [a-z] [^a] and ESCAPE.
//   - The operand of lower type precedence is converted (a string compared
//     with a datetime column becomes a datetime: 'YYYYMMDD',
//     'YYYY-MM-DD[ hh:mm:ss[.fff]]', 'MM/DD/YYYY'; a string compared with an
//     int becomes an int, 245 if it is not one).
//   - Integer division; decimal results get SQL Server's precision and
//     scale (numeric(19,6) * numeric(19,6) is numeric(38,11)); CAST to int
//     truncates; AVG of integers is an integer; COUNT is int; SUM of int is
//     int, of numeric(p,s) numeric(38,s).
//   - NULLs sort first ascending and last descending. TOP without ORDER BY
//     is allowed. ORDER BY may name a select alias or a position.
//   - Every column outside an aggregate must be grouped (8120, 8121, 8127),
//     even where Postgres would allow it (grouped by the primary key).
//
// # Errors
//
// 102/156 syntax, 105 unclosed quote, 113 missing end comment, 137
// undeclared variable, 145 DISTINCT with ORDER BY, 147 aggregate in WHERE,
// 174 argument count, 191 nested too deeply, 195 unknown function or
// SET option, 206 type clash, 207 invalid column, 208 invalid object, 209
// ambiguous column, 241/242 date conversion, 245 conversion, 263 * without
// FROM, 321 unknown hint, 1013 duplicate exposed names, 1014/10741/10742/
// 10744 TOP and OFFSET/FETCH, 108/408 ORDER BY position or constant, 4104
// multi-part identifier, 4145 non-boolean condition, 8114 conversion of a
// parameter, 8115 overflow, 8117 operand type, 8120 not grouped, 8134
// divide by zero, 40517 valid T-SQL the simulator does not support
// (subqueries, UNION, CTEs, window functions, APPLY, PIVOT, SELECT INTO,
// DECLARE, control flow, most built-in functions).
package tsql
