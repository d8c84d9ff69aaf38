// Command k8s-check renders kustomizations and validates every rendered object strictly and offline: Kubernetes
// objects are decoded with the API types of k8s.io/api (the Kubernetes release named in go.mod) by a strict decoder
// (an unknown, misspelled or duplicated field fails), and KEDA objects are checked against the openAPIV3Schema of
// KEDA's published CRDs (vendored in crds/), with unknown fields refused as the API server would prune them.
//
//	k8s-check DIR...            render each kustomization DIR (kustomize's krusty API) and validate what it renders
//	k8s-check -o OUT DIR...     the same, and also write each rendering to OUT/<n>-<base name of DIR>.yaml, and its
//	                            objects as one JSON array to OUT/<n>-<base name of DIR>.json (for checks in other
//	                            languages)
//
// It prints one line per rendering ("<dir>: N objects valid (kinds)") and one line per problem, and exits 1 if any
// object is invalid, 2 on a usage or rendering error. No cluster is contacted.
package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

//go:embed crds/*.yaml
var crdFiles embed.FS

func main() {
	out := flag.String("o", "", "also write each rendering to this folder")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: k8s-check [-o OUT] KUSTOMIZATION_DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	v, err := newValidator()
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-check:", err)
		os.Exit(2)
	}
	invalid := false
	for i, dir := range flag.Args() {
		rendered, err := render(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: render: %v\n", dir, err)
			os.Exit(2)
		}
		if *out != "" {
			name := fmt.Sprintf("%d-%s.yaml", i, filepath.Base(filepath.Clean(dir)))
			if err := writeRendering(filepath.Join(*out, name), rendered); err != nil {
				fmt.Fprintln(os.Stderr, "k8s-check:", err)
				os.Exit(2)
			}
		}
		kinds, problems := v.validateStream(rendered)
		for _, p := range problems {
			fmt.Printf("%s: INVALID %s\n", dir, p)
		}
		if len(problems) > 0 {
			invalid = true
			continue
		}
		fmt.Printf("%s: %d objects valid (%s)\n", dir, countKinds(kinds), formatKinds(kinds))
	}
	if invalid {
		os.Exit(1)
	}
}

// writeRendering writes the YAML stream to path and its objects as a JSON array beside it (.json for .yaml).
func writeRendering(path string, rendered []byte) error {
	if err := os.WriteFile(path, rendered, 0o644); err != nil {
		return err
	}
	var objects []json.RawMessage
	for _, doc := range splitDocuments(rendered) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		objects = append(objects, j)
	}
	all, err := json.Marshal(objects)
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(path, ".yaml")+".json", all, 0o644)
}

// render builds a kustomization from disk the way `kustomize build DIR` does, with kustomize's default options.
func render(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return resMap.AsYaml()
}

type validator struct {
	decoder runtime.Decoder
	scheme  *runtime.Scheme
	crds    map[schema.GroupVersionKind]*crdSchema
}

func newValidator() (*validator, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
		policyv1.AddToScheme, rbacv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	decoder := k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, scheme, scheme,
		k8sjson.SerializerOptions{Yaml: true, Strict: true})
	crds, err := loadCRDs(crdFiles)
	if err != nil {
		return nil, err
	}
	return &validator{decoder: decoder, scheme: scheme, crds: crds}, nil
}

// validateStream validates every document of a multi-document YAML stream and returns the kinds it saw and the
// problems it found (each naming the object).
func (v *validator) validateStream(stream []byte) (map[string]int, []string) {
	kinds := map[string]int{}
	var problems []string
	for i, doc := range splitDocuments(stream) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			problems = append(problems, fmt.Sprintf("document %d: %v", i+1, err))
			continue
		}
		id := fmt.Sprintf("%s %s/%s", head.APIVersion, head.Kind, head.Metadata.Name)
		if head.APIVersion == "" || head.Kind == "" || head.Metadata.Name == "" {
			problems = append(problems, fmt.Sprintf("document %d (%s): apiVersion, kind and metadata.name are required", i+1, id))
			continue
		}
		if err := v.validate(doc, head.APIVersion, head.Kind); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		kinds[head.Kind]++
	}
	return kinds, problems
}

func (v *validator) validate(doc []byte, apiVersion, kind string) error {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return err
	}
	gvk := gv.WithKind(kind)
	if crd, ok := v.crds[gvk]; ok {
		return crd.validate(doc)
	}
	if !v.scheme.Recognizes(gvk) {
		return fmt.Errorf("unknown kind (neither a Kubernetes API type known to this check nor a vendored CRD)")
	}
	// Strict: unknown fields and duplicate fields are errors, returned alongside the decoded object.
	_, _, err = v.decoder.Decode(doc, nil, nil)
	return err
}

// splitDocuments splits a YAML stream on document separators and drops empty documents.
func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if hasContent(cur.String()) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(stream), "\n") {
		if strings.TrimRight(line, " \r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs
}

// hasContent tells whether a YAML document holds more than blank lines and comments.
func hasContent(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

func countKinds(kinds map[string]int) int {
	n := 0
	for _, c := range kinds {
		n += c
	}
	return n
}

func formatKinds(kinds map[string]int) string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", kinds[k], k)
	}
	return strings.Join(parts, ", ")
}
