// Package manyparams is the golden case for many parameters of many kinds:
// local, imported, pointer, slice, map, array, generic, alias and
// anonymous struct types, and two imported packages with the same name.
package manyparams

import (
	"context"
	"net/url"
	"time"

	"github.com/dbosgen/dbosgen/gen/testdata/manyparams/model"
	othermodel "github.com/dbosgen/dbosgen/gen/testdata/manyparams/othermodel"
)

// IDs is a local alias.
type IDs = []string

// Status is a local named type.
type Status int

// Order is a local struct.
type Order struct {
	ID    string       `json:"id"`
	Lines []model.Line `json:"lines"`
}

// Fulfil takes one parameter of each kind.
//
//dbos:workflow
func Fulfil(
	ctx context.Context,
	order Order,
	ptr *Order,
	tags []string,
	counts map[string]int,
	when time.Time,
	timeout time.Duration,
	u *url.URL,
	page model.Page[model.Line],
	pair model.Pair[string, *Order],
	ids IDs,
	flags model.Flags,
	anything any,
	status Status,
	grid [2][3]int,
	nested map[model.Key][]*model.Line,
	other []othermodel.Line,
	meta struct {
		Note string `json:"note"`
	},
) (*model.Receipt, error) {
	return &model.Receipt{Number: order.ID}, nil
}

// Lookup returns an imported generic type.
//
//dbos:step
func Lookup(ctx context.Context, key model.Key, after *int) (model.Page[model.Pair[model.Key, othermodel.Line]], error) {
	return model.Page[model.Pair[model.Key, othermodel.Line]]{Next: after}, nil
}
