package sapb1sim

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Additional expenses (freight) of marketing documents: the
// DocumentAdditionalExpenses collection, stored in RDR3/DLN3/INV3/RIN3 (one
// row per expense, LineNum from 0). Each names an additional expense
// definition (OEXD, entity AdditionalExpenses; a new company has code 1,
// "Freight"): an ExpenseCode that is not defined is -10. The amount is the
// net LineTotal, or the gross LineGross (see tax.go); freight is not subject
// to the header's DiscountPercent, and DocTotal = lines after the header
// discount + freight + tax. Expenses are written when a document is added;
// PATCH does not change them (the simulator refuses the collection there),
// and copying a document to a target does not carry its freight over.

// docExpense is an additional expense being written.
type docExpense struct {
	lineNum           int
	code              int64
	total, gross      decimal.Decimal
	rate, vat         decimal.Decimal
	taxCode, vatGroup any
	taxLiable         string
	remarks           any
	index             int // 1-based position in the request
}

func expenseLocator(field string, index int) string {
	return fmt.Sprintf("[DocumentAdditionalExpenses.%s][line: %d]", field, index)
}

// buildExpenses checks and prices the request's additional expenses.
func (s *Server) buildExpenses(ctx context.Context, tx pgx.Tx, reqs []*body) ([]*docExpense, error) {
	var out []*docExpense
	for i, b := range reqs {
		v := b.values
		x := &docExpense{lineNum: i, index: i + 1, taxLiable: "Y", taxCode: v["TaxCode"], vatGroup: v["VatGroup"], remarks: v["Remarks"]}
		code, ok := v["ExpenseCode"].(int64)
		if !ok || code <= 0 {
			return nil, errRule("Specify a freight code  %s", expenseLocator("ExpenseCode", x.index))
		}
		if ok, err := s.exists(ctx, tx, "OEXD", "ExpnsCode", code); err != nil {
			return nil, err
		} else if !ok {
			return nil, errRule("Freight code %d is not defined  %s", code, expenseLocator("ExpenseCode", x.index))
		}
		x.code = code
		if t, ok := v["TaxLiable"].(string); ok {
			x.taxLiable = t
		}
		rate, err := s.taxRate(ctx, tx, x.taxCode, x.vatGroup, expenseLocator("TaxCode", x.index))
		if err != nil {
			return nil, err
		}
		if x.taxLiable == "Y" {
			x.rate = rate
		}
		total, hasTotal := v["LineTotal"].(decimal.Decimal)
		gross, hasGross := v["LineGross"].(decimal.Decimal)
		switch {
		case hasTotal:
			x.total = total.Round(2)
			x.vat = taxOf(x.total, x.rate)
			x.gross = x.total.Add(x.vat)
		case hasGross:
			x.gross = gross.Round(2)
			x.total, x.vat = splitGross(x.gross, x.rate)
		}
		if x.total.IsNegative() {
			return nil, errRule("Freight amount cannot be negative  %s", expenseLocator("LineTotal", x.index))
		}
		out = append(out, x)
	}
	return out, nil
}

func (s *Server) insertExpenses(ctx context.Context, tx pgx.Tx, e *entity, docEntry int, xs []*docExpense) error {
	for _, x := range xs {
		if err := s.insert(ctx, tx, e.expenses().table, []string{"DocEntry", "LineNum", "ObjType", "ExpnsCode", "LineTotal", "GrsAmount",
			"TaxCode", "VatGroup", "VatPrcnt", "VatSum", "TaxStatus", "Comments"},
			[]any{docEntry, x.lineNum, fmt.Sprint(e.objType), x.code, x.total, x.gross, x.taxCode, x.vatGroup, x.rate, x.vat, x.taxLiable, x.remarks}); err != nil {
			return err
		}
	}
	return nil
}

// loadExpenses reads a document's additional expenses (their amounts).
func (s *Server) loadExpenses(ctx context.Context, tx pgx.Tx, e *entity, docEntry int) ([]*docExpense, error) {
	rows, err := tx.Query(ctx, `SELECT "LineNum", "ExpnsCode", "LineTotal", "GrsAmount", "VatPrcnt", "VatSum" FROM `+s.t(e.expenses().table)+
		` WHERE "DocEntry" = $1 ORDER BY "LineNum"`, docEntry)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*docExpense
	for rows.Next() {
		x := &docExpense{}
		if err := rows.Scan(&x.lineNum, &x.code, &x.total, &x.gross, &x.rate, &x.vat); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
