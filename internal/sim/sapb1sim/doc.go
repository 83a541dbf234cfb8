// Package sapb1sim is the SAP Business One Service Layer simulator of the
// sandbox (DESIGN.md, "The sandbox contract"): one http.Handler that serves
// the Service Layer under /b1s/v1 (OData v3, SAP's v1 error envelope) and a
// control API under /_sim/, over a company kept in Postgres tables of its
// own. Facts come from shared/reference/sapb1.md; where the reference is
// silent or unsure, the choice is written next to the code and listed below.
//
// # The company
//
// One company lives in one Postgres schema, "sbo_" + lower(CompanyDB), in
// tables with SAP's names and columns (reference §B): OADM, ONNM/NNM1
// (numbering), CUFD (UDFs), OWHS, OPLN, ITM1, OCRD, OITM, OITW, OITT, ITT1,
// ORDR/RDR1, ODLN/DLN1, OINV/INV1, ORIN/RIN1 and OIVL, created by embedded
// DDL (schema/*.sql) at start. Identifiers keep SAP's case and are quoted
// ("OITM"."IsCommited"); text columns use a case-insensitive ICU collation,
// as SAP's SQL Server databases are case-insensitive. The next issue's SQL
// Server endpoint reads these same tables.
//
// Service Layer handlers change the tables in transactions with the locks
// SAP takes: adding a document holds its type's ONNM row until commit (so
// numbering is serialised per document type), base documents are locked
// before stock, and stock rows are locked in a fixed order (stock.go).
//
// # Service Layer
//
// Login/Logout with B1SESSION and ROUTEID cookies and a sliding idle
// timeout (session.go); Orders, DeliveryNotes, Invoices and CreditNotes with
// base-document copying, Cancel/Close/Reopen and SAP's stock effects
// (documents.go, stock.go); Items, Warehouses, PriceLists, BusinessPartners
// and ProductTrees (masters.go); UserFieldsMD, which adds U_ columns
// (udf.go); $filter/$select/$orderby/$top/$skip/$inlinecount, paging and
// $count translated into parameterised SQL (query.go, package odata);
// $batch with atomic changesets (batch.go); SAP's capacity, proxy timeouts,
// deadlocks and faults (capacity.go); the control API (control.go).
//
// # Choices where the reference is unsure or silent
//
//   - Sales BOMs (§A4, §E): a line for a sales-BOM parent is exploded into
//     component lines (TreeType I) that commit and move stock; the parent
//     holds the price. ProductTrees refuses a sales BOM whose parent is an
//     inventory item, as SAP does.
//   - PATCH of document lines without B1S-ReplaceCollectionsOnPatch (§E): a
//     line with a known LineNum is updated, any other line is appended. Only
//     orders' lines change (U_ fields on any document); a line's item
//     cannot change (-1029); LineStatus bost_Close closes one line.
//   - Copying more than a base line's open quantity is refused (-10), and
//     an invoice or credit note closes only when fully copied (no payments).
//   - Cancel of a delivery, invoice or credit note adds a cancellation
//     document (CANCELED = 'C') that reverses stock and gives the base lines
//     their open quantity back (§E leaves the invoice case open). Close is
//     allowed on orders and deliveries; Reopen on orders only (-5006 else).
//   - Deadlocks answer 500 with code -2038 and SQL Server's deadlock text
//     (§C6 says only "generic internal error"); injected ones happen only
//     while another document write is in flight.
//   - A $filter or $select the simulator cannot parse, an unknown property,
//     a line-level path (DocumentLines/ItemCode) or a literal of the wrong
//     type is 400 with code -1000 (SAP's code for malformed query options).
//     Property names in query options are case-sensitive; in JSON bodies
//     they are not (SAP's own $batch sample sends "cardcode").
//   - Tax is not modelled: there are no tax codes, VatSum is 0 and DocTotal
//     is the sum of line totals less the header discount. Prices round to 6
//     decimals, amounts to 2.
//   - UDFs are visible at once (a real Service Layer needs a restart).
//   - OIVL.TransSeq comes from a counter row held until commit, so journal
//     rows become visible in TransSeq order; whether SAP guarantees this is
//     not documented. OITM.UpdateDate/UpdateTS change with item master data,
//     not with stock postings; ORDR's change with every change to an order,
//     its lines' open quantities included.
//
// # Not modelled
//
// PUT, $metadata, $expand, SQLQueries, Returns and Drafts, the v2 (OData
// v4) envelope, batches and serial numbers, bin locations, purchasing
// (OnOrder stays 0), service documents, exchange rates, approval
// procedures and SBO_SP_TransactionNotification.
package sapb1sim
