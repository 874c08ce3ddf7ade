// Package model holds types the manyparams case imports.
package model

// Line is an order line.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Key is a named map key type.
type Key string

// Page is a generic page of items.
type Page[T any] struct {
	Items []T  `json:"items"`
	Next  *int `json:"next,omitempty"`
}

// Pair is a generic pair.
type Pair[K comparable, V any] struct {
	Key   K `json:"key"`
	Value V `json:"value"`
}

// Receipt is what fulfilling an order returns.
type Receipt struct {
	Number string `json:"number"`
}

// Flags is an alias declared in another package.
type Flags = map[string]bool
