// Package tds is the SQL Server endpoint of the SAP Business One simulator
// (`tiktokb1 sim sapb1 --tds-addr`): the TDS protocol, 7.1 to 7.4, over the
// company the Service Layer simulator keeps in Postgres, answering the
// read-only T-SQL subset of package tsql. Any SQL Server client can log in
// and read; go-mssqldb and Node's tedious are tested.
//
// Protocol facts come from the project's fact sheet
// (shared/reference/tds.md); comments cite it as "sheet §n".
//
// # Protocol
//
//   - PRELOGIN: version 16.0.1000 (SQL Server 2022), MARS off. Encryption
//     as SQL Server without "force encryption" (Options.Encryption): a
//     client that requires it gets TLS 1.2 for the whole connection (TLS
//     records inside PRELOGIN packets during the handshake), one that
//     merely may encrypt gets TLS for its LOGIN7 packet only, one that
//     cannot gets none. The certificate is self-signed unless one is given.
//   - LOGIN7 with SQL authentication: the user (case-insensitive) and
//     password (case-sensitive, de-obfuscated) are checked, 18456 if wrong;
//     the database must be the company's, 4060 + 18456 if not (empty means
//     the company). Integrated security is refused (18452). The packet size
//     asked for is granted within 512–32767.
//   - SQLBatch, RPC (sp_executesql, sp_prepare, sp_execute, sp_prepexec,
//     sp_unprepare, sp_reset_connection; by id or name), TM requests
//     (BEGIN, COMMIT, ROLLBACK, SAVE), Attention (acknowledged in a message
//     of its own), RESETCONNECTION (settings back to the login's, open
//     transaction rolled back, prepared statements dropped).
//   - Results: COLMETADATA, ROW, DONE/DONEINPROC/DONEPROC with row counts,
//     RETURNSTATUS, RETURNVALUE for OUTPUT parameters, ERROR and INFO with
//     SQL Server's numbers, ENVCHANGE (database, collation
//     SQL_Latin1_General_CP1_CI_AS, language, packet size, transactions,
//     reset). Types sent: int, bigint, smallint, tinyint, bit, numeric and
//     decimal, money, float, real, nvarchar, nchar, varchar and char (code
//     page 1252), (max) types as PLP, datetime, smalldatetime, date,
//     datetime2, datetimeoffset, time, uniqueidentifier, varbinary.
//
// # Tables and types
//
// Tables are the company's Postgres tables in Options.Tables (default
// DefaultTables: OITM OITW OWHS OITT ITT1 ITM1 OPLN ORDR RDR1 ODLN DLN1
// OINV INV1 ORIN RIN1 OIVL OCRD) that exist in Options.Schema; a name is
// resolved case-insensitively against Postgres' catalog at each statement,
// so user-defined fields added meanwhile are there. Any other name is 208.
// Column types: varchar(n) is served as nvarchar(n), numeric(p,s) as
// numeric(p,s), timestamp(3) as datetime, int4 as int.
//
// # Statements
//
// Each SELECT runs in its own short read-only Postgres transaction at READ
// COMMITTED, or REPEATABLE READ (Postgres' snapshot isolation) under SET
// TRANSACTION ISOLATION LEVEL SNAPSHOT or REPEATABLE READ, SERIALIZABLE
// under SERIALIZABLE. Inside BEGIN TRAN at those levels one Postgres
// transaction is held until COMMIT or ROLLBACK, so every statement reads
// the same snapshot, as in SQL Server. SET LOCK_TIMEOUT n becomes
// lock_timeout (n ms; 0 = do not wait; -1 = wait); running out is 1222.
// READ UNCOMMITTED and the NOLOCK hint read committed data: Postgres has no
// dirty reads, so the simulator is at least as strict as SQL Server.
//
// Also answered: SET options (NOCOUNT, ANSI_NULLS, QUOTED_IDENTIFIER,
// IMPLICIT_TRANSACTIONS, FMTONLY, NOEXEC, ROWCOUNT, DATEFORMAT, DATEFIRST,
// LANGUAGE us_english, TEXTSIZE, LOCK_TIMEOUT, DEADLOCK_PRIORITY, and the
// ANSI_* / ARITHABORT / XACT_ABORT family, accepted), BEGIN TRAN, COMMIT,
// ROLLBACK, SAVE TRAN, USE <company>, @@VERSION, @@SPID, @@TRANCOUNT,
// @@SERVERNAME, @@LANGUAGE, @@LOCK_TIMEOUT, @@ROWCOUNT, @@ERROR, DB_NAME(),
// SERVERPROPERTY('ProductVersion'|'Edition'|…).
//
// Refused as a login with read rights only is refused: INSERT, UPDATE,
// DELETE, MERGE (229), DROP (3701), CREATE (262), ALTER (4902), TRUNCATE
// (1088); EXEC of a procedure (2812). Valid T-SQL outside the subset is
// 40517 "Keyword or statement option '…' is not supported in this version
// of SQL Server." The grammar and semantics are in package tsql.
package tds
