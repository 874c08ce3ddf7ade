// Package model (at .../othermodel) has the same name as package model, so
// the generated file must import it under another name.
package model

// Line is a line of another kind.
type Line struct {
	Text string `json:"text"`
}
