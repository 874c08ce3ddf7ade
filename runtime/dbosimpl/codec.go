package dbosimpl

import (
	"encoding/json"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
)

// EncodeInput encodes the generated argument struct of a call to fn. A value
// that cannot be encoded yields an error wrapping dbos.ErrEncode, before anything
// is written to the database.
func EncodeInput(fn *Function, args any) ([]byte, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encode input of %s: %w: %w", fn.Name, sentinel.ErrEncode, err)
	}
	return b, nil
}

// DecodeInput decodes a stored input of fn into the generated argument struct.
func DecodeInput(fn *Function, input []byte, args any) error {
	if err := json.Unmarshal(input, args); err != nil {
		return fmt.Errorf("decode input of %s: %w: %w", fn.Name, sentinel.ErrDecode, err)
	}
	return nil
}

// EncodeOutput encodes a result returned by fn.
func EncodeOutput(fn *Function, result any) ([]byte, error) {
	b, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encode output of %s: %w: %w", fn.Name, sentinel.ErrEncode, err)
	}
	return b, nil
}

// DecodeOutput decodes a stored result of fn into result, a pointer to the
// function's result type.
func DecodeOutput(fn *Function, output []byte, result any) error {
	if err := json.Unmarshal(output, result); err != nil {
		return fmt.Errorf("decode output of %s: %w: %w", fn.Name, sentinel.ErrDecode, err)
	}
	return nil
}
