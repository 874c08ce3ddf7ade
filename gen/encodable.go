package gen

import (
	"fmt"
	"go/types"
	"reflect"
)

// jsonProblem says where and why a type cannot round-trip through
// encoding/json.
type jsonProblem struct {
	// Path is an expression naming the offending part, e.g. "task.Done" or
	// "tasks[i]"; it is the root name when the whole type is the problem.
	Path string
	// What describes the offending part, e.g. "a channel (chan int)".
	What string
}

// jsonCheck walks a type the way encoding/json does and records the first
// part it cannot encode (an error) and the first it cannot decode into (a
// warning).
type jsonCheck struct {
	encode, decode *jsonProblem
	seen           map[string]bool
	qual           types.Qualifier
}

// checkJSON checks t, reached under the name root. Types are named in
// problems as qual qualifies them.
func checkJSON(t types.Type, root string, qual types.Qualifier) (encode, decode *jsonProblem) {
	c := &jsonCheck{seen: map[string]bool{}, qual: qual}
	c.walk(t, root, false, false)
	return c.encode, c.decode
}

// walk checks t at path. encOK and decOK say that an enclosing type
// already encodes (or decodes) itself with its own methods.
func (c *jsonCheck) walk(t types.Type, path string, encOK, decOK bool) {
	if (c.encode != nil || encOK) && (c.decode != nil || decOK) {
		return
	}
	encOK = encOK || encodesItself(t)
	decOK = decOK || decodesItself(t)
	if encOK && decOK {
		return
	}
	bad := func(what string) {
		if !encOK && c.encode == nil {
			c.encode = &jsonProblem{Path: path, What: what}
		}
	}
	switch u := t.(type) {
	case *types.Alias:
		if _, ok := types.Unalias(u).Underlying().(*types.Interface); ok {
			c.interfaceType(t, path, decOK)
			return
		}
		c.walk(types.Unalias(u), path, encOK, decOK)
	case *types.Named:
		if _, ok := u.Underlying().(*types.Interface); ok {
			c.interfaceType(t, path, decOK)
			return
		}
		key := fmt.Sprintf("%s %t %t", types.TypeString(u, nil), encOK, decOK)
		if c.seen[key] {
			return
		}
		c.seen[key] = true
		c.walk(u.Underlying(), path, encOK, decOK)
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			bad(fmt.Sprintf("a complex number (%s)", u.Name()))
		case u.Kind() == types.UnsafePointer:
			bad("an unsafe.Pointer")
		}
	case *types.Chan:
		bad(fmt.Sprintf("a channel (%s)", types.TypeString(u, c.qual)))
	case *types.Signature:
		bad(fmt.Sprintf("a function (%s)", types.TypeString(u, c.qual)))
	case *types.Pointer:
		c.walk(u.Elem(), path, encOK, decOK)
	case *types.Slice:
		c.walk(u.Elem(), path+"[i]", encOK, decOK)
	case *types.Array:
		c.walk(u.Elem(), path+"[i]", encOK, decOK)
	case *types.Map:
		if !validMapKey(u.Key()) {
			bad(fmt.Sprintf("a map with keys of type %s (JSON object keys must be strings, integers, or implement encoding.TextMarshaler)", types.TypeString(u.Key(), c.qual)))
		}
		c.walk(u.Elem(), path+"[k]", encOK, decOK)
	case *types.Struct:
		for i := range u.NumFields() {
			if !encodedField(u, i) {
				continue
			}
			f := u.Field(i)
			c.walk(f.Type(), path+"."+f.Name(), encOK, decOK)
		}
	case *types.Interface:
		c.interfaceType(u, path, decOK)
	}
}

// interfaceType checks an interface type: any value encodes, but
// encoding/json can decode only into an interface without methods.
func (c *jsonCheck) interfaceType(t types.Type, path string, decOK bool) {
	it := t.Underlying().(*types.Interface)
	if !it.Empty() && !decOK && c.decode == nil {
		c.decode = &jsonProblem{Path: path, What: fmt.Sprintf("an interface with methods (%s)", types.TypeString(t, c.qual))}
	}
}

// validMapKey reports whether encoding/json accepts k as a map key type.
func validMapKey(k types.Type) bool {
	if b, ok := k.Underlying().(*types.Basic); ok {
		return b.Info()&(types.IsString|types.IsInteger) != 0
	}
	return hasMethod(k, "MarshalText")
}

// hasMethod reports whether t or *t has a method called name.
func hasMethod(t types.Type, name string) bool {
	if _, ok := t.Underlying().(*types.Interface); ok {
		return false
	}
	if _, ok := t.(*types.Pointer); !ok {
		t = types.NewPointer(t)
	}
	ms := types.NewMethodSet(t)
	for i := range ms.Len() {
		if ms.At(i).Obj().Name() == name {
			return true
		}
	}
	return false
}

// hasInvalid reports whether t mentions a type that did not resolve.
func hasInvalid(t types.Type) bool {
	found := false
	walkTypes(t, func(t types.Type) bool {
		if b, ok := types.Unalias(t).(*types.Basic); ok && b.Kind() == types.Invalid {
			found = true
		}
		return !found
	})
	return found
}

// encodesItself reports whether encoding/json encodes t with t's own
// method (MarshalJSON or MarshalText).
func encodesItself(t types.Type) bool {
	return hasMethod(t, "MarshalJSON") || hasMethod(t, "MarshalText")
}

// decodesItself reports whether encoding/json decodes t with t's own
// method (UnmarshalJSON or UnmarshalText).
func decodesItself(t types.Type) bool {
	return hasMethod(t, "UnmarshalJSON") || hasMethod(t, "UnmarshalText")
}

// encodedField reports whether encoding/json writes and reads field i of
// s: an exported or embedded field not tagged json:"-".
func encodedField(s *types.Struct, i int) bool {
	f := s.Field(i)
	return (f.Exported() || f.Embedded()) && reflect.StructTag(s.Tag(i)).Get("json") != "-"
}
