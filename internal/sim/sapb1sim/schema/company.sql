-- The simulated SAP Business One company: SAP's own table and column names
-- (reference §B), so the SQL Server endpoint of the next issue can serve them
-- as they are. Runs with search_path set to the company's schema; every
-- statement is idempotent, so starting the simulator on an existing company
-- keeps its data.
--
-- Identifiers are quoted and keep SAP's case ("OITM"."ItemCode"), and text
-- columns use the case-insensitive collation sapb1sim.ci because SAP's SQL
-- Server databases are case-insensitive: Items('a1') finds item 'A1', and
-- 'a1' and 'A1' cannot both exist. Postgres (before 18) cannot LIKE over a
-- nondeterministic collation, so a reader that needs LIKE casts the column
-- to the deterministic "und-x-icu" collation first. The collation lives in
-- the shared schema sapb1sim (created before this file runs), outside the
-- company, so resetting a company does not change its columns' types under
-- statements that clients have prepared.
--
-- Dates are timestamp(3) with the time at midnight (SQL Server datetime,
-- "date part only"); times of day are int HHMMSS (UpdateTS 92745 = 09:27:45),
-- in the company's local time. Quantities and amounts are numeric(19,6).

-- Company settings (one row).
CREATE TABLE IF NOT EXISTS "OADM" (
    "CompnyName" varchar(100) COLLATE sapb1sim.ci NOT NULL,
    "MainCurncy" varchar(3) COLLATE sapb1sim.ci NOT NULL,
    "DfltWhs"    varchar(8) COLLATE sapb1sim.ci
);

-- Numbering: the next DocEntry per object type. Adding a document holds this
-- row's lock until commit, which is what serialises concurrent adds of one
-- document type in SAP (reference §A7). The row 'OIVL' numbers the warehouse
-- journal (TransSeq) the same way, so TransSeq order is commit order.
CREATE TABLE IF NOT EXISTS "ONNM" (
    "ObjectCode" varchar(20) COLLATE sapb1sim.ci PRIMARY KEY,
    "AutoKey"    int NOT NULL DEFAULT 1,
    "DfltSeries" int
);

-- Numbering series: the next DocNum.
CREATE TABLE IF NOT EXISTS "NNM1" (
    "Series"     int PRIMARY KEY,
    "ObjectCode" varchar(20) COLLATE sapb1sim.ci NOT NULL,
    "SeriesName" varchar(8) COLLATE sapb1sim.ci NOT NULL,
    "InitialNum" int NOT NULL DEFAULT 1,
    "NextNumber" int NOT NULL DEFAULT 1,
    "LastNum"    int
);

-- User-defined fields: one row per table a UDF lives on.
CREATE TABLE IF NOT EXISTS "CUFD" (
    "TableID"  varchar(20) COLLATE sapb1sim.ci NOT NULL,
    "FieldID"  int NOT NULL,
    "AliasID"  varchar(50) COLLATE sapb1sim.ci NOT NULL,
    "Descr"    varchar(80) COLLATE sapb1sim.ci,
    "TypeID"   varchar(1) COLLATE sapb1sim.ci NOT NULL,
    "EditType" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT '',
    "SizeID"   int,
    "EditSize" int,
    "Dflt"     varchar(254) COLLATE sapb1sim.ci,
    "NotNull"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "RTable"   varchar(20) COLLATE sapb1sim.ci,
    PRIMARY KEY ("TableID", "FieldID"),
    UNIQUE ("TableID", "AliasID")
);

CREATE TABLE IF NOT EXISTS "OWHS" (
    "WhsCode"    varchar(8) COLLATE sapb1sim.ci PRIMARY KEY,
    "WhsName"    varchar(100) COLLATE sapb1sim.ci NOT NULL,
    "Locked"     varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "Inactive"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "DropShip"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "Nettable"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "BinActivat" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "Street"     varchar(100) COLLATE sapb1sim.ci,
    "City"       varchar(100) COLLATE sapb1sim.ci,
    "ZipCode"    varchar(20) COLLATE sapb1sim.ci,
    "Country"    varchar(3) COLLATE sapb1sim.ci,
    "DataSource" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'O',
    "createDate" timestamp(3),
    "updateDate" timestamp(3)
);

CREATE TABLE IF NOT EXISTS "OPLN" (
    "ListNum"    int PRIMARY KEY,
    "ListName"   varchar(32) COLLATE sapb1sim.ci NOT NULL,
    "BASE_NUM"   int,
    "Factor"     numeric(19,6) NOT NULL DEFAULT 1,
    "IsGrossPrc" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "ValidFor"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "ValidFrom"  timestamp(3),
    "ValidTo"    timestamp(3),
    "PrimCurr"   varchar(3) COLLATE sapb1sim.ci,
    "DataSource" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'O',
    "CreateDate" timestamp(3),
    "UpdateDate" timestamp(3)
);

CREATE TABLE IF NOT EXISTS "OCRD" (
    "CardCode"   varchar(15) COLLATE sapb1sim.ci PRIMARY KEY,
    "CardName"   varchar(100) COLLATE sapb1sim.ci,
    "CardType"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'C',
    "CardFName"  varchar(100) COLLATE sapb1sim.ci,
    "Currency"   varchar(3) COLLATE sapb1sim.ci,
    "ListNum"    int,
    "Phone1"     varchar(20) COLLATE sapb1sim.ci,
    "E_Mail"     varchar(100) COLLATE sapb1sim.ci,
    "LicTradNum" varchar(32) COLLATE sapb1sim.ci,
    "validFor"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "validFrom"  timestamp(3),
    "validTo"    timestamp(3),
    "frozenFor"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "frozenFrom" timestamp(3),
    "frozenTo"   timestamp(3),
    "DataSource" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'O',
    "CreateDate" timestamp(3),
    "CreateTS"   int,
    "UpdateDate" timestamp(3),
    "UpdateTS"   int,
    "LogInstanc" int NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS "OITM" (
    "ItemCode"   varchar(50) COLLATE sapb1sim.ci PRIMARY KEY,
    "ItemName"   varchar(200) COLLATE sapb1sim.ci,
    "FrgnName"   varchar(200) COLLATE sapb1sim.ci,
    "ItmsGrpCod" int NOT NULL DEFAULT 100,
    "CodeBars"   varchar(254) COLLATE sapb1sim.ci,
    "InvntItem"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "SellItem"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "PrchseItem" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "VATLiable"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "OnHand"     numeric(19,6) NOT NULL DEFAULT 0,
    "IsCommited" numeric(19,6) NOT NULL DEFAULT 0,
    "OnOrder"    numeric(19,6) NOT NULL DEFAULT 0,
    "TreeType"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "validFor"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "validFrom"  timestamp(3),
    "validTo"    timestamp(3),
    "frozenFor"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "frozenFrom" timestamp(3),
    "frozenTo"   timestamp(3),
    "DfltWH"     varchar(8) COLLATE sapb1sim.ci,
    "InvntryUom" varchar(100) COLLATE sapb1sim.ci,
    "ItemType"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'I',
    "ManBtchNum" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "ManSerNum"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "DataSource" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'O',
    "CreateDate" timestamp(3),
    "CreateTS"   int,
    "UpdateDate" timestamp(3),
    "UpdateTS"   int,
    "LogInstanc" int NOT NULL DEFAULT 0
);

-- Stock per item and warehouse. Posting a document updates OnHand and
-- IsCommited here and the totals on OITM in the same transaction.
CREATE TABLE IF NOT EXISTS "OITW" (
    "ItemCode"   varchar(50) COLLATE sapb1sim.ci NOT NULL REFERENCES "OITM" ("ItemCode") ON DELETE CASCADE,
    "WhsCode"    varchar(8) COLLATE sapb1sim.ci NOT NULL REFERENCES "OWHS" ("WhsCode"),
    "OnHand"     numeric(19,6) NOT NULL DEFAULT 0,
    "IsCommited" numeric(19,6) NOT NULL DEFAULT 0,
    "OnOrder"    numeric(19,6) NOT NULL DEFAULT 0,
    "Consig"     numeric(19,6) NOT NULL DEFAULT 0,
    "Counted"    numeric(19,6) NOT NULL DEFAULT 0,
    "WasCounted" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "MinStock"   numeric(19,6) NOT NULL DEFAULT 0,
    "MaxStock"   numeric(19,6) NOT NULL DEFAULT 0,
    "MinOrder"   numeric(19,6) NOT NULL DEFAULT 0,
    "AvgPrice"   numeric(19,6) NOT NULL DEFAULT 0,
    "Locked"     varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "createDate" timestamp(3),
    "updateDate" timestamp(3),
    PRIMARY KEY ("ItemCode", "WhsCode")
);

-- Prices per item and price list.
CREATE TABLE IF NOT EXISTS "ITM1" (
    "ItemCode"  varchar(50) COLLATE sapb1sim.ci NOT NULL REFERENCES "OITM" ("ItemCode") ON DELETE CASCADE,
    "PriceList" int NOT NULL REFERENCES "OPLN" ("ListNum"),
    "Price"     numeric(19,6),
    "Currency"  varchar(3) COLLATE sapb1sim.ci,
    "Factor"    numeric(19,6) NOT NULL DEFAULT 1,
    PRIMARY KEY ("ItemCode", "PriceList")
);

-- Bills of materials: header (note SAP's spelling "Qauntity") and lines.
CREATE TABLE IF NOT EXISTS "OITT" (
    "Code"       varchar(50) COLLATE sapb1sim.ci PRIMARY KEY REFERENCES "OITM" ("ItemCode"),
    "TreeType"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'P',
    "Qauntity"   numeric(19,6) NOT NULL DEFAULT 1,
    "PriceList"  int,
    "ToWH"       varchar(8) COLLATE sapb1sim.ci,
    "Name"       varchar(100) COLLATE sapb1sim.ci,
    "HideComp"   varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'Y',
    "CreateDate" timestamp(3),
    "UpdateDate" timestamp(3)
);

CREATE TABLE IF NOT EXISTS "ITT1" (
    "Father"    varchar(50) COLLATE sapb1sim.ci NOT NULL REFERENCES "OITT" ("Code") ON DELETE CASCADE,
    "ChildNum"  int NOT NULL,
    "VisOrder"  int NOT NULL,
    "Code"      varchar(50) COLLATE sapb1sim.ci NOT NULL REFERENCES "OITM" ("ItemCode"),
    "Quantity"  numeric(19,6) NOT NULL,
    "Warehouse" varchar(8) COLLATE sapb1sim.ci,
    "Price"     numeric(19,6) NOT NULL DEFAULT 0,
    "Currency"  varchar(3) COLLATE sapb1sim.ci,
    "PriceList" int,
    "IssueMthd" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'M',
    "Uom"       varchar(100) COLLATE sapb1sim.ci,
    "Comment"   varchar(254) COLLATE sapb1sim.ci,
    "Type"      int NOT NULL DEFAULT 4,
    "ItemName"  varchar(200) COLLATE sapb1sim.ci,
    PRIMARY KEY ("Father", "ChildNum")
);

-- Warehouse journal: one row per stock movement of a document line (InQty
-- or OutQty). TransSeq increases in commit order: a watermark for OnHand.
CREATE TABLE IF NOT EXISTS "OIVL" (
    "TransSeq"   int PRIMARY KEY,
    "TransType"  int NOT NULL,
    "CreatedBy"  int NOT NULL,
    "BASE_REF"   varchar(11) COLLATE sapb1sim.ci NOT NULL,
    "DocLineNum" int NOT NULL,
    "DocDate"    timestamp(3) NOT NULL,
    "ItemCode"   varchar(50) COLLATE sapb1sim.ci NOT NULL,
    "LocType"    int NOT NULL DEFAULT 64,
    "LocCode"    varchar(8) COLLATE sapb1sim.ci NOT NULL,
    "InQty"      numeric(19,6) NOT NULL DEFAULT 0,
    "OutQty"     numeric(19,6) NOT NULL DEFAULT 0,
    "SumStock"   numeric(19,6) NOT NULL DEFAULT 0,
    "CreateDate" timestamp(3) NOT NULL,
    "CreateTime" int NOT NULL
);
CREATE INDEX IF NOT EXISTS "OIVL_ITEM_WHS" ON "OIVL" ("ItemCode", "LocCode");

-- Additional expense (freight) definitions, entity AdditionalExpenses. A new
-- company has code 1, "Freight" (seeded).
CREATE TABLE IF NOT EXISTS "OEXD" (
    "ExpnsCode"  int PRIMARY KEY,
    "ExpnsName"  varchar(20) COLLATE sapb1sim.ci NOT NULL,
    "RevAcct"    varchar(15) COLLATE sapb1sim.ci,
    "TaxLiable"  varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N',
    "VatGroupI"  varchar(8) COLLATE sapb1sim.ci,
    "DistrbMthd" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N'
);

-- Sales tax codes, entity SalesTaxCodes: Rate in percent.
CREATE TABLE IF NOT EXISTS "OSTC" (
    "Code" varchar(8) COLLATE sapb1sim.ci PRIMARY KEY,
    "Name" varchar(100) COLLATE sapb1sim.ci,
    "Rate" numeric(19,6) NOT NULL DEFAULT 0,
    "Lock" varchar(1) COLLATE sapb1sim.ci NOT NULL DEFAULT 'N'
);
