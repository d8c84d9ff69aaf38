package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// jsonSchema is the part of a CRD's openAPIV3Schema (apiextensions.k8s.io/v1 JSONSchemaProps) that this check
// enforces: types, properties (unknown ones refused unless the schema preserves them), required fields, enums,
// items, map values and numeric bounds. CEL rules (x-kubernetes-validations), patterns and formats are not checked.
type jsonSchema struct {
	Type                  string                 `json:"type"`
	Properties            map[string]*jsonSchema `json:"properties"`
	AdditionalProperties  *additionalProperties  `json:"additionalProperties"`
	Items                 *jsonSchema            `json:"items"`
	Required              []string               `json:"required"`
	Enum                  []any                  `json:"enum"`
	Minimum               *float64               `json:"minimum"`
	Maximum               *float64               `json:"maximum"`
	Nullable              bool                   `json:"nullable"`
	PreserveUnknownFields bool                   `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString           bool                   `json:"x-kubernetes-int-or-string"`
	EmbeddedResource      bool                   `json:"x-kubernetes-embedded-resource"`
}

// additionalProperties is either a boolean or a schema for the values of a map.
type additionalProperties struct {
	Allowed bool
	Schema  *jsonSchema
}

func (a *additionalProperties) UnmarshalJSON(b []byte) error {
	if string(b) == "true" || string(b) == "false" {
		a.Allowed = string(b) == "true"
		return nil
	}
	a.Allowed = true
	return json.Unmarshal(b, &a.Schema)
}

type crdSchema struct {
	gvk    schema.GroupVersionKind
	schema *jsonSchema
}

// loadCRDs reads every CustomResourceDefinition in the embedded crds/ folder, one schema per served version.
func loadCRDs(files fs.FS) (map[schema.GroupVersionKind]*crdSchema, error) {
	names, err := fs.Glob(files, "crds/*.yaml")
	if err != nil {
		return nil, err
	}
	crds := map[schema.GroupVersionKind]*crdSchema{}
	for _, name := range names {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		for _, doc := range splitDocuments(raw) {
			var crd struct {
				Kind string `json:"kind"`
				Spec struct {
					Group string `json:"group"`
					Names struct {
						Kind string `json:"kind"`
					} `json:"names"`
					Versions []struct {
						Name   string `json:"name"`
						Served bool   `json:"served"`
						Schema struct {
							OpenAPIV3Schema *jsonSchema `json:"openAPIV3Schema"`
						} `json:"schema"`
					} `json:"versions"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &crd); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s: not a CustomResourceDefinition", name)
			}
			for _, v := range crd.Spec.Versions {
				if !v.Served || v.Schema.OpenAPIV3Schema == nil {
					continue
				}
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
				crds[gvk] = &crdSchema{gvk: gvk, schema: v.Schema.OpenAPIV3Schema}
			}
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CRD schemas in crds/")
	}
	return crds, nil
}

// validate checks one custom object: metadata strictly as an ObjectMeta (the API server does not take it from the
// CRD's schema), everything else against the version's openAPIV3Schema.
func (c *crdSchema) validate(doc []byte) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return err
	}
	var problems []string
	if md, ok := obj["metadata"]; ok {
		raw, _ := json.Marshal(md)
		mdec := json.NewDecoder(bytes.NewReader(raw))
		mdec.DisallowUnknownFields()
		var meta metav1.ObjectMeta
		if err := mdec.Decode(&meta); err != nil {
			problems = append(problems, fmt.Sprintf("metadata: %v", err))
		}
	}
	rest := map[string]any{}
	for k, v := range obj {
		if k != "metadata" {
			rest[k] = v
		}
	}
	top := *c.schema
	top.Properties = map[string]*jsonSchema{}
	for k, v := range c.schema.Properties {
		if k != "metadata" {
			top.Properties[k] = v
		}
	}
	problems = append(problems, checkValue(&top, rest, "")...)
	if len(problems) > 0 {
		return fmt.Errorf("strict decoding error: %s", strings.Join(problems, ", "))
	}
	return nil
}

// checkValue returns one message per violation of s by v at path p (".spec.triggers[0].type").
func checkValue(s *jsonSchema, v any, p string) []string {
	if s == nil {
		return nil
	}
	at := p
	if at == "" {
		at = "."
	}
	if v == nil {
		if s.Nullable {
			return nil
		}
		return []string{fmt.Sprintf("%s: null is not allowed", at)}
	}
	if s.IntOrString {
		switch x := v.(type) {
		case string:
			return checkEnum(s, v, at)
		case json.Number:
			if _, err := x.Int64(); err != nil {
				return []string{fmt.Sprintf("%s: %s is neither an integer nor a string", at, x)}
			}
			return checkEnum(s, v, at)
		default:
			return []string{fmt.Sprintf("%s: must be an integer or a string", at)}
		}
	}
	var problems []string
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: must be an object", at)}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := p + "." + k
			if ps, ok := s.Properties[k]; ok {
				problems = append(problems, checkValue(ps, m[k], child)...)
				continue
			}
			switch {
			case s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
				problems = append(problems, checkValue(s.AdditionalProperties.Schema, m[k], child)...)
			case s.AdditionalProperties != nil && s.AdditionalProperties.Allowed, s.PreserveUnknownFields:
			default:
				problems = append(problems, fmt.Sprintf("unknown field %q", strings.TrimPrefix(child, ".")))
			}
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s: missing required field %q", at, r))
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: must be an array", at)}
		}
		for i, e := range a {
			problems = append(problems, checkValue(s.Items, e, fmt.Sprintf("%s[%d]", p, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: must be a string", at)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: must be a boolean", at)}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return []string{fmt.Sprintf("%s: must be a %s", at, s.Type)}
		}
		if s.Type == "integer" {
			if _, err := n.Int64(); err != nil {
				return []string{fmt.Sprintf("%s: %s is not an integer", at, n)}
			}
		}
		f, _ := n.Float64()
		if s.Minimum != nil && f < *s.Minimum {
			problems = append(problems, fmt.Sprintf("%s: %s is below the minimum %v", at, n, *s.Minimum))
		}
		if s.Maximum != nil && f > *s.Maximum {
			problems = append(problems, fmt.Sprintf("%s: %s is above the maximum %v", at, n, *s.Maximum))
		}
	case "":
		// No type: anything (the schema preserves it).
	default:
		return []string{fmt.Sprintf("%s: the schema's type %q is not supported by this check", at, s.Type)}
	}
	return append(problems, checkEnum(s, v, at)...)
}

func checkEnum(s *jsonSchema, v any, at string) []string {
	if len(s.Enum) == 0 {
		return nil
	}
	got := fmt.Sprint(v)
	allowed := make([]string, len(s.Enum))
	for i, e := range s.Enum {
		allowed[i] = fmt.Sprint(e)
		if allowed[i] == got {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: %q is not one of %s", at, got, strings.Join(allowed, ", "))}
}
