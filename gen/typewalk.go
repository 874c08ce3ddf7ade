package gen

import "go/types"

// walkTypes calls visit for t and, while visit returns true, for each type
// t is written with: elements, keys, fields, parameters and type
// arguments. Named types and aliases are not expanded: their names are how
// generated code writes them.
func walkTypes(t types.Type, visit func(types.Type) bool) {
	if t == nil || !visit(t) {
		return
	}
	switch u := t.(type) {
	case *types.Alias:
		walkTypeList(u.TypeArgs(), visit)
	case *types.Named:
		walkTypeList(u.TypeArgs(), visit)
	case *types.Pointer:
		walkTypes(u.Elem(), visit)
	case *types.Slice:
		walkTypes(u.Elem(), visit)
	case *types.Array:
		walkTypes(u.Elem(), visit)
	case *types.Chan:
		walkTypes(u.Elem(), visit)
	case *types.Map:
		walkTypes(u.Key(), visit)
		walkTypes(u.Elem(), visit)
	case *types.Struct:
		for i := range u.NumFields() {
			walkTypes(u.Field(i).Type(), visit)
		}
	case *types.Signature:
		walkTypes(u.Params(), visit)
		walkTypes(u.Results(), visit)
	case *types.Tuple:
		for i := range u.Len() {
			walkTypes(u.At(i).Type(), visit)
		}
	case *types.Interface:
		for i := range u.NumExplicitMethods() {
			walkTypes(u.ExplicitMethod(i).Type(), visit)
		}
		for i := range u.NumEmbeddeds() {
			walkTypes(u.EmbeddedType(i), visit)
		}
	}
}

// walkTypeList walks each type of list.
func walkTypeList(list *types.TypeList, visit func(types.Type) bool) {
	for i := range list.Len() {
		walkTypes(list.At(i), visit)
	}
}

// typeNames returns the named types and aliases t is written with, in
// walk order.
func typeNames(t types.Type) []*types.TypeName {
	var out []*types.TypeName
	walkTypes(t, func(t types.Type) bool {
		switch u := t.(type) {
		case *types.Alias:
			out = append(out, u.Obj())
		case *types.Named:
			out = append(out, u.Obj())
		}
		return true
	})
	return out
}
