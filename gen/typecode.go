package gen

import (
	"fmt"
	"go/types"
	"strings"

	"github.com/dave/jennifer/jen"
)

// typeCode writes t as Go source. Types of the package being generated
// stay unqualified (the file is made with jen.NewFilePathName); others are
// qualified with the names chooseImports picked. Aliases are written by
// their own name, instantiated generic types with their type arguments.
func typeCode(t types.Type) *jen.Statement {
	switch u := t.(type) {
	case *types.Alias:
		return qualified(u.Obj(), u.TypeArgs())
	case *types.Named:
		return qualified(u.Obj(), u.TypeArgs())
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			return jen.Qual("unsafe", "Pointer")
		}
		return jen.Id(u.Name())
	case *types.Pointer:
		return jen.Op("*").Add(typeCode(u.Elem()))
	case *types.Slice:
		return jen.Index().Add(typeCode(u.Elem()))
	case *types.Array:
		return jen.Index(jen.Lit(int(u.Len()))).Add(typeCode(u.Elem()))
	case *types.Map:
		return jen.Map(typeCode(u.Key())).Add(typeCode(u.Elem()))
	case *types.Chan:
		switch u.Dir() {
		case types.SendOnly:
			return jen.Chan().Op("<-").Add(typeCode(u.Elem()))
		case types.RecvOnly:
			return jen.Op("<-").Chan().Add(typeCode(u.Elem()))
		default:
			return jen.Chan().Add(typeCode(u.Elem()))
		}
	case *types.Struct:
		return structCode(u)
	case *types.Signature:
		return jen.Func().Add(signatureCode(u))
	case *types.Interface:
		return interfaceCode(u)
	case *types.TypeParam:
		return jen.Id(u.Obj().Name())
	default:
		panic(fmt.Sprintf("dbosgen: cannot write type %s (%T)", t, t))
	}
}

// qualified writes a named type or alias with its type arguments.
func qualified(obj *types.TypeName, args *types.TypeList) *jen.Statement {
	var s *jen.Statement
	if obj.Pkg() == nil {
		s = jen.Id(obj.Name())
	} else {
		s = jen.Qual(obj.Pkg().Path(), obj.Name())
	}
	if args.Len() == 0 {
		return s
	}
	codes := make([]jen.Code, args.Len())
	for i := range args.Len() {
		codes[i] = typeCode(args.At(i))
	}
	return s.Types(codes...)
}

// structCode writes an anonymous struct type with its fields and tags.
func structCode(s *types.Struct) *jen.Statement {
	fields := make([]jen.Code, s.NumFields())
	for i := range s.NumFields() {
		f := s.Field(i)
		var c *jen.Statement
		if f.Embedded() {
			c = typeCode(f.Type())
		} else {
			c = jen.Id(f.Name()).Add(typeCode(f.Type()))
		}
		if tag := s.Tag(i); tag != "" {
			if strings.Contains(tag, "`") {
				c.Lit(tag)
			} else {
				c.Op("`" + tag + "`")
			}
		}
		fields[i] = c
	}
	return jen.Struct(fields...)
}

// interfaceCode writes an anonymous interface type.
func interfaceCode(it *types.Interface) *jen.Statement {
	var items []jen.Code
	for i := range it.NumEmbeddeds() {
		items = append(items, typeCode(it.EmbeddedType(i)))
	}
	for i := range it.NumExplicitMethods() {
		m := it.ExplicitMethod(i)
		items = append(items, jen.Id(m.Name()).Add(signatureCode(m.Type().(*types.Signature))))
	}
	return jen.Interface(items...)
}

// signatureCode writes a signature's parameter and result lists, without
// names.
func signatureCode(sig *types.Signature) *jen.Statement {
	params := make([]jen.Code, sig.Params().Len())
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			params[i] = jen.Op("...").Add(typeCode(t.(*types.Slice).Elem()))
			continue
		}
		params[i] = typeCode(t)
	}
	results := make([]jen.Code, sig.Results().Len())
	for i := range sig.Results().Len() {
		results[i] = typeCode(sig.Results().At(i).Type())
	}
	s := jen.Params(params...)
	switch len(results) {
	case 0:
		return s
	case 1:
		return s.Add(results[0])
	default:
		return s.Params(results...)
	}
}
