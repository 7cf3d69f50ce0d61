package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// docFiles are the documents whose command blocks are checked.
var docFiles = []string{"README.md", "infra/README.md"}

// The pins the docs must quote. The kind node image is the one kind
// v0.27.0 was released with; Kubernetes v1.32 matches the kubectl pinned here.
const (
	kindVersion        = "v0.27.0"
	kindNodeImage      = "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f"
	kubernetesVersion  = "v1.32.2"
	minikubeVersion    = "v1.35.0"
	ingressNginxChart  = "4.14.1"
	metricsServerChart = "3.12.2"
	ingressLabel       = "ingress-ready=true"
)

// docEnv is what the commands are checked against: the repository as it is.
type docEnv struct {
	makefile     string
	profiles     map[string]bool
	skaffoldPin  string                     // Skaffold version deploytest/go.mod pins
	secrets      map[string]string          // Secret name → the keys the manifests read, sorted and comma-joined ("" for TLS)
	created      map[string]bool            // Secrets the commands create
	objects      map[string]bool            // kind/name of every object the overlays render (pods of StatefulSets included)
	workloadEnv  map[string]map[string]bool // kind/name → env vars of its containers
	jobs         map[string]bool            // job/name the commands create
	devHost      string                     // the dev Ingress host
	ingressNS    string                     // namespace of the controller (minikube's addon uses this one)
	ingressRel   string                     // its Helm release name (Service <release>-controller)
	ingresses    map[string]bool
	sizes        map[string]sizing
	rendered     map[string]bool // kustomize directories that render
	kubectlError func(dir string) error
}

// addObjects records what a render holds, for commands that name objects.
func (env *docEnv) addObjects(b *bundle) {
	if env.objects == nil {
		env.objects, env.workloadEnv = map[string]bool{}, map[string]map[string]bool{}
	}
	for name := range b.services {
		env.objects["service/"+name] = true
	}
	for name := range b.pvcs {
		env.objects["persistentvolumeclaim/"+name] = true
	}
	for _, ing := range b.ingresses {
		env.objects["ingress/"+ing.Name] = true
	}
	for _, w := range b.workloads() {
		key := strings.ToLower(w.kind) + "/" + w.name
		env.objects[key] = true
		if env.workloadEnv[key] == nil {
			env.workloadEnv[key] = map[string]bool{}
		}
		for _, c := range w.tmpl.Spec.Containers {
			for _, e := range c.Env {
				env.workloadEnv[key][e.Name] = true
			}
		}
	}
	for _, st := range b.statefulSets {
		n := int32(1)
		if st.Spec.Replicas != nil {
			n = *st.Spec.Replicas
		}
		for i := range n {
			env.objects[fmt.Sprintf("pod/%s-%d", st.Name, i)] = true
			for _, t := range st.Spec.VolumeClaimTemplates {
				env.objects[fmt.Sprintf("persistentvolumeclaim/%s-%s-%d", t.Name, st.Name, i)] = true
			}
		}
	}
}

// kindAliases maps what kubectl accepts to the kinds addObjects records.
var kindAliases = map[string]string{
	"deployment": "deployment", "deployments": "deployment", "deploy": "deployment",
	"statefulset": "statefulset", "statefulsets": "statefulset", "sts": "statefulset",
	"cronjob": "cronjob", "cronjobs": "cronjob", "cj": "cronjob", "job": "job", "jobs": "job",
	"svc": "service", "service": "service", "services": "service",
	"pvc": "persistentvolumeclaim", "persistentvolumeclaim": "persistentvolumeclaim",
	"ingress": "ingress", "ing": "ingress", "pod": "pod", "pods": "pod",
}

// objectRefs returns the objects positional arguments name, as kind/name
// ("deployment/orders-depl") or as a kind followed by names
// ("pvc data-nats-0 data-nats-1").
func objectRefs(args []string) ([]string, error) {
	var refs []string
	for i := 0; i < len(args); i++ {
		if kind, name, ok := strings.Cut(args[i], "/"); ok {
			k, known := kindAliases[kind]
			if !known {
				return nil, fmt.Errorf("unknown kind %q", kind)
			}
			refs = append(refs, k+"/"+name)
			continue
		}
		k, known := kindAliases[args[i]]
		if !known {
			continue // a value (KEY=VALUE, a port mapping)
		}
		for _, name := range args[i+1:] {
			refs = append(refs, k+"/"+name)
		}
		break
	}
	return refs, nil
}

// checkRefs fails for each object a command names that no overlay renders
// and no earlier command created.
func (env *docEnv) checkRefs(w string, args []string, fail func(string, string, ...any)) []string {
	refs, err := objectRefs(args)
	if err != nil {
		fail(w, "%v", err)
	}
	if len(refs) == 0 {
		fail(w, "names no object (write kind/name)")
	}
	for _, r := range refs {
		if !env.objects[r] && !env.jobs[r] {
			fail(w, "no overlay renders %s (and no command above creates it)", r)
		}
	}
	return refs
}

// readsSecret records that the manifests read key of Secret name.
func (env *docEnv) readsSecret(name, key string) {
	var keys []string
	if env.secrets[name] != "" {
		keys = strings.Split(env.secrets[name], ",")
	}
	if !contains(keys, key) {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	env.secrets[name] = strings.Join(keys, ",")
}

func loadDocEnv(t *testing.T) *docEnv {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	env := &docEnv{makefile: string(mk), profiles: map[string]bool{}, secrets: map[string]string{},
		ingresses: map[string]bool{}, sizes: map[string]sizing{}, rendered: map[string]bool{},
		// The standard release in its standard namespace: what minikube's
		// addon runs, so both paths of infra/README.md wait for the same pods.
		ingressRel: "ingress-nginx", ingressNS: "ingress-nginx"}
	for _, p := range loadSkaffold(t).cfg.Profiles {
		env.profiles[p.Name] = true
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`GoogleContainerTools/skaffold/v2 (v\S+)`).FindSubmatch(gomod); m != nil {
		env.skaffoldPin = string(m[1])
	}
	for _, ov := range overlays {
		b, err := decode(render(t, ov.name))
		if err != nil {
			t.Fatal(err)
		}
		env.sizes[ov.name] = sizeOf(b)
		env.addObjects(b)
		for _, ing := range b.ingresses {
			env.ingresses[ing.Name] = true
			for _, tls := range ing.Spec.TLS {
				env.secrets[tls.SecretName] = ""
			}
			if ov.name == "dev" && len(ing.Spec.Rules) > 0 {
				env.devHost = ing.Spec.Rules[0].Host
			}
		}
		for _, w := range b.workloads() {
			for _, v := range w.tmpl.Spec.Volumes {
				if v.Secret != nil && contains(ov.externalSecrets, v.Secret.SecretName) {
					for _, it := range v.Secret.Items {
						env.readsSecret(v.Secret.SecretName, it.Key)
					}
				}
			}
			for _, c := range w.tmpl.Spec.Containers {
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && contains(ov.externalSecrets, e.ValueFrom.SecretKeyRef.Name) {
						env.readsSecret(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
					}
				}
			}
		}
	}
	env.kubectlError = func(dir string) error {
		if ok, seen := env.rendered[dir]; seen {
			if !ok {
				return fmt.Errorf("kubectl kustomize %s fails", dir)
			}
			return nil
		}
		out, err := exec.Command("kubectl", "kustomize", filepath.Join(repoRoot, dir)).CombinedOutput()
		env.rendered[dir] = err == nil
		if err != nil {
			return fmt.Errorf("kubectl kustomize %s: %v: %s", dir, err, firstLine(string(out)))
		}
		return nil
	}
	return env
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// docCommand is one command of a ```sh block, continuation lines joined.
type docCommand struct {
	where string // file:line
	args  []string
}

// commands extracts the commands of a document's sh blocks.
func commands(file, text string) ([]docCommand, []string) {
	var cmds []docCommand
	var errs []string
	in, joined, start := false, "", 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			in = !in && trimmed == "```sh"
			continue
		}
		if !in {
			continue
		}
		if joined == "" {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			joined += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		joined += trimmed
		cmd := strings.TrimSpace(joined)
		joined = ""
		if cmd == "" || strings.HasPrefix(cmd, "#") {
			continue
		}
		args, err := shellWords(cmd)
		where := fmt.Sprintf("%s:%d", file, start)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		cmds = append(cmds, docCommand{where: where, args: args})
	}
	return cmds, errs
}

// withoutEnv drops a command's sudo and VAR=value prefixes.
func withoutEnv(args []string) []string {
	for len(args) > 0 && (args[0] == "sudo" || envAssignRE.MatchString(args[0])) {
		args = args[1:]
	}
	return args
}

var envAssignRE = regexp.MustCompile(`^[A-Z_]+=`)

// shellWords splits a command line as a POSIX shell would for our purposes:
// quotes group, a # outside quotes starts a comment.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && !inWord:
			return words, nil
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// flags reads --name=value, --name value and -n value forms.
func flags(args []string) (map[string][]string, []string) {
	f := map[string][]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		if name, v, ok := strings.Cut(a, "="); ok {
			f[name] = append(f[name], v)
			continue
		}
		// Boolean flags used in the docs take no value.
		switch a {
		case "-x509", "-nodes", "--install", "--create-namespace", "-A", "-d", "-f", "--all", "-rf", "-noout", "-pubkey":
			f[a] = append(f[a], "")
			continue
		}
		if i+1 < len(args) {
			f[a] = append(f[a], args[i+1])
			i++
		} else {
			f[a] = append(f[a], "")
		}
	}
	return f, pos
}

func one(f map[string][]string, names ...string) string {
	for _, n := range names {
		if v := f[n]; len(v) > 0 {
			return v[len(v)-1]
		}
	}
	return ""
}

// checkDocs checks every command of docs (file name → text) and the pins
// and figures the text quotes.
func checkDocs(docs map[string]string, env *docEnv) []string {
	env.created = map[string]bool{} // filled by this call's commands
	env.jobs = map[string]bool{}
	var errs []string
	fail := func(where, format string, args ...any) {
		errs = append(errs, where+": "+fmt.Sprintf(format, args...))
	}
	var all []docCommand
	for _, file := range sortedKeys(docs) {
		cmds, perrs := commands(file, docs[file])
		errs = append(errs, perrs...)
		all = append(all, cmds...)
		// A script the docs run (`sh infra/create-secrets.sh`) is part of
		// the runbook: its commands are checked like the docs' own.
		for _, c := range cmds {
			args := withoutEnv(c.args)
			if len(args) != 2 || args[0] != "sh" {
				continue
			}
			script, ok := docs[args[1]] // a planted case's edit
			if !ok {
				b, err := os.ReadFile(filepath.Join(repoRoot, args[1]))
				if err != nil {
					fail(c.where, "%v", err)
					continue
				}
				script = string(b)
			}
			sub, perrs := commands(args[1], "```sh\n"+script+"\n```")
			errs = append(errs, perrs...)
			all = append(all, sub...)
		}
	}
	// Files the docs' own commands make (the certificate), and namespaces.
	made := map[string]bool{}
	namespaces := map[string]bool{"kube-system": true, "ingress-nginx": true}
	pullSecrets := map[string]bool{}
	for _, c := range all {
		f, pos := flags(c.args)
		switch {
		case len(pos) > 1 && pos[0] == "openssl" && pos[1] == "req":
			made[one(f, "-out")], made[one(f, "-keyout")] = true, true
		case len(pos) > 2 && pos[0] == "kubectl" && pos[1] == "create" && pos[2] == "namespace":
			namespaces[pos[len(pos)-1]] = true
		case len(pos) > 2 && pos[0] == "kubectl" && pos[1] == "patch" && pos[2] == "serviceaccount":
			pullSecrets[one(f, "-p")] = true
		}
	}
	exists := func(where, p string) {
		if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
			fail(where, "%s does not exist", p)
		}
	}
	certFile := func(where, p string) {
		if !made[p] {
			fail(where, "%s is not the certificate or key the openssl command makes", p)
		}
	}

	for _, c := range all {
		args := withoutEnv(c.args)
		if len(args) == 0 {
			continue
		}
		f, pos := flags(args)
		w := c.where
		sub := ""
		if len(pos) > 1 {
			sub = pos[1]
		}
		switch pos[0] {
		case "sh": // its commands were added to all above
		case "set":
			if len(args) != 2 || !strings.HasPrefix(args[1], "-e") {
				fail(w, "set: only -e... (stop at the first failure) is part of a script")
			}
		case "make":
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sub) + `:`).MatchString(env.makefile) {
				fail(w, "make has no target %q", sub)
			}
			for _, a := range pos[2:] {
				name, v, ok := strings.Cut(a, "=")
				if !ok {
					fail(w, "make %s: unexpected argument %q", sub, a)
					continue
				}
				if !strings.Contains(env.makefile, "$("+name+")") {
					fail(w, "the Makefile does not use %s", name)
				}
				if name == "CA" {
					certFile(w, v)
				}
				if name == "URL" && v != "https://"+env.devHost {
					fail(w, "URL=%s is not https://%s, the dev Ingress host", v, env.devHost)
				}
			}
		case "kind":
			if sub != "create" || len(pos) < 3 || pos[2] != "cluster" {
				fail(w, "no rule for kind %s", sub)
				break
			}
			cfg := one(f, "--config")
			exists(w, cfg)
			for _, e := range checkKindConfig(cfg) {
				fail(w, "%s", e)
			}
		case "helm":
			checkHelm(w, f, pos, env, fail)
		case "minikube":
			checkMinikube(w, f, pos, env, fail)
		case "kubectl":
			checkKubectl(w, f, pos, env, namespaces, pullSecrets, certFile, fail)
		case "openssl":
			if sub != "req" {
				fail(w, "no rule for openssl %s", sub)
				break
			}
			for _, p := range []string{one(f, "-out"), one(f, "-keyout")} {
				if !strings.HasPrefix(p, "infra/certs/") {
					fail(w, "%s: keep the certificate and key under infra/certs/ (ignored by git)", p)
				}
			}
			if one(f, "-subj") != "/CN="+env.devHost || one(f, "-addext") != "subjectAltName=DNS:"+env.devHost {
				fail(w, "the certificate must be for %s, the dev Ingress host (CN and subjectAltName)", env.devHost)
			}
		case "mkdir":
			for _, p := range args[1:] {
				if p != "-p" && p != "infra/certs" {
					fail(w, "mkdir %s: not a directory the docs use", p)
				}
			}
		case "security":
			certFile(w, pos[len(pos)-1])
		case "certutil":
			if p := one(f, "-i"); p != "" {
				certFile(w, p)
			} else {
				certFile(w, pos[len(pos)-1])
			}
		case "skaffold":
			if sub != "dev" && sub != "run" {
				fail(w, "no rule for skaffold %s", sub)
			}
			if p := one(f, "-p", "--profile"); p != "" && !env.profiles[p] {
				fail(w, "skaffold.yaml has no profile %q", p)
			}
		case "curl":
			if ca := one(f, "--cacert"); ca != "" {
				certFile(w, ca)
			}
			for _, u := range pos[1:] {
				if rest, ok := strings.CutPrefix(u, "https://"); ok {
					if host, _, _ := strings.Cut(rest, "/"); host != env.devHost {
						fail(w, "%s is not the dev Ingress host %s", u, env.devHost)
					}
				}
			}
		case "go":
			if sub != "run" || len(pos) < 3 {
				fail(w, "no rule for go %s", sub)
				break
			}
			exists(w, pos[2])
		default:
			fail(w, "no rule checks %q: add one to deploytest/docs_test.go", pos[0])
		}
	}
	// The documented set: every Secret an overlay expects to exist is
	// created by a command of the runbook.
	for _, name := range sortedKeys(env.secrets) {
		if !env.created[name] {
			errs = append(errs, fmt.Sprintf("no command creates the Secret %s that an overlay reads", name))
		}
	}
	errs = append(errs, checkDocText(docs, env)...)
	errs = append(errs, checkExampleOverlay(docs["infra/README.md"])...)
	return errs
}

// checkExampleOverlay renders the runbook's own overlay (the yaml block on
// top of ../prod) and checks that the host is set in both the rule and the
// TLS entry, and the namespace on everything.
func checkExampleOverlay(doc string) []string {
	const where = "infra/README.md (your overlay)"
	block := exampleOverlay(doc)
	if errs, ok := overlayChecked[block]; ok {
		return errs
	}
	errs := renderExampleOverlay(where, block)
	overlayChecked[block] = errs
	return errs
}

// overlayChecked remembers each rendered example: the planted cases change
// other parts of the docs far more often than this block.
var overlayChecked = map[string][]string{}

func exampleOverlay(doc string) string {
	var block string
	for _, part := range strings.Split(doc, "```yaml\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		if strings.Contains(body, "- ../prod") {
			block = body
		}
	}
	return block
}

func renderExampleOverlay(where, block string) []string {
	if block == "" {
		return []string{where + ": no yaml block of an overlay on top of ../prod"}
	}
	var k struct {
		Namespace string `json:"namespace"`
	}
	if err := yaml.Unmarshal([]byte(block), &k); err != nil || k.Namespace == "" {
		return []string{fmt.Sprintf("%s: does not set a namespace (%v)", where, err)}
	}
	prod, err := filepath.Abs(filepath.Join(repoRoot, "infra", "k8s", "overlays", "prod"))
	if err != nil {
		return []string{err.Error()}
	}
	dir, err := os.MkdirTemp("", "doc-overlay-")
	if err != nil {
		return []string{err.Error()}
	}
	defer os.RemoveAll(dir)
	// kustomize takes only relative paths to other kustomizations.
	rel, err := filepath.Rel(dir, prod)
	if err != nil {
		return []string{err.Error()}
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(strings.Replace(block, "- ../prod", "- "+rel, 1)), 0o644); err != nil {
		return []string{err.Error()}
	}
	out, err := exec.Command("kubectl", "kustomize", "--load-restrictor=LoadRestrictionsNone", dir).CombinedOutput()
	if err != nil {
		return []string{fmt.Sprintf("%s: kubectl kustomize: %v: %s", where, err, firstLine(string(out)))}
	}
	b, err := decode(out)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", where, err)}
	}
	var errs []string
	for _, ing := range b.ingresses {
		var rules, tls []string
		for _, r := range ing.Spec.Rules {
			rules = append(rules, r.Host)
		}
		for _, t := range ing.Spec.TLS {
			tls = append(tls, t.Hosts...)
		}
		if len(rules) != 1 || len(tls) != 1 || rules[0] != tls[0] || rules[0] == "ticketing.dev" {
			errs = append(errs, fmt.Sprintf("%s: Ingress %s: rule hosts %v and TLS hosts %v must both be your host", where, ing.Name, rules, tls))
		}
		if ing.Namespace != k.Namespace {
			errs = append(errs, fmt.Sprintf("%s: Ingress %s is in namespace %q, want %q", where, ing.Name, ing.Namespace, k.Namespace))
		}
	}
	for _, d := range b.deployments {
		if d.Namespace != k.Namespace {
			errs = append(errs, fmt.Sprintf("%s: Deployment %s is in namespace %q, want %q", where, d.Name, d.Namespace, k.Namespace))
		}
	}
	return errs
}

// checkKindConfig: the mappings and the label the ingress path needs, and
// the pinned node image.
func checkKindConfig(path string) []string {
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		return nil // reported as missing
	}
	var cfg struct {
		Kind  string `json:"kind"`
		Nodes []struct {
			Role                 string   `json:"role"`
			Image                string   `json:"image"`
			KubeadmConfigPatches []string `json:"kubeadmConfigPatches"`
			ExtraPortMappings    []struct {
				ContainerPort int    `json:"containerPort"`
				HostPort      int    `json:"hostPort"`
				ListenAddress string `json:"listenAddress"`
				Protocol      string `json:"protocol"`
			} `json:"extraPortMappings"`
		} `json:"nodes"`
	}
	// The fields above are the ones the path relies on; the rest is kind's.
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var errs []string
	if cfg.Kind != "Cluster" || len(cfg.Nodes) != 1 {
		return []string{fmt.Sprintf("%s: want a kind Cluster with one node", path)}
	}
	n := cfg.Nodes[0]
	if n.Image != kindNodeImage {
		errs = append(errs, fmt.Sprintf("%s: node image %q, want %s (kind %s)", path, n.Image, kindNodeImage, kindVersion))
	}
	label := false
	for _, p := range n.KubeadmConfigPatches {
		label = label || strings.Contains(p, `node-labels: "`+ingressLabel+`"`)
	}
	if !label {
		errs = append(errs, fmt.Sprintf("%s: the node is not labelled %s", path, ingressLabel))
	}
	for _, port := range []int{80, 443} {
		ok := false
		for _, m := range n.ExtraPortMappings {
			ok = ok || (m.ContainerPort == port && m.HostPort == port)
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: no extraPortMapping of port %d", path, port))
		}
	}
	return errs
}

func checkHelm(w string, f map[string][]string, pos []string, env *docEnv, fail func(string, string, ...any)) {
	if len(pos) < 4 || pos[1] != "upgrade" || len(f["--install"]) == 0 {
		fail(w, "helm: want `helm upgrade --install <release> <chart>`")
		return
	}
	release, chart := pos[2], pos[3]
	ns := one(f, "--namespace", "-n")
	switch chart {
	case "ingress-nginx":
		if release != env.ingressRel || ns != env.ingressNS {
			fail(w, "ingress-nginx must be release %q in namespace %q, as minikube's addon runs it", env.ingressRel, env.ingressNS)
		}
		if v := one(f, "--version"); v != ingressNginxChart {
			fail(w, "ingress-nginx chart version %q, want %s", v, ingressNginxChart)
		}
		sets := map[string]string{}
		for _, s := range f["--set"] {
			k, v, _ := strings.Cut(s, "=")
			sets[k] = v
		}
		strs := map[string]string{}
		for _, s := range f["--set-string"] {
			k, v, _ := strings.Cut(s, "=")
			strs[k] = v
		}
		if _, ok := sets["controller.nodeSelector.ingress-ready"]; ok {
			fail(w, "--set makes the nodeSelector value a boolean: use --set-string")
		}
		k, v, _ := strings.Cut(ingressLabel, "=")
		if strs["controller.nodeSelector."+k] != v {
			fail(w, "the controller must select the kind node's label %s (--set-string controller.nodeSelector.%s=%s)", ingressLabel, k, v)
		}
		if sets["controller.hostPort.enabled"] != "true" || sets["controller.service.type"] != "NodePort" {
			fail(w, "on kind the controller binds the node's ports: controller.hostPort.enabled=true and controller.service.type=NodePort (a LoadBalancer never gets an address)")
		}
	case "metrics-server":
		if v := one(f, "--version"); v != metricsServerChart {
			fail(w, "metrics-server chart version %q, want %s", v, metricsServerChart)
		}
		if ns != "kube-system" {
			fail(w, "metrics-server belongs in kube-system")
		}
	default:
		fail(w, "no rule for the chart %q", chart)
		return
	}
	if !strings.HasPrefix(one(f, "--repo"), "https://") {
		fail(w, "helm: the chart repository must be named with --repo https://…")
	}
}

func checkMinikube(w string, f map[string][]string, pos []string, env *docEnv, fail func(string, string, ...any)) {
	if len(pos) < 2 {
		fail(w, "minikube: no subcommand")
		return
	}
	switch pos[1] {
	case "start":
		if v := one(f, "--kubernetes-version"); v != kubernetesVersion {
			fail(w, "--kubernetes-version %q, want %s", v, kubernetesVersion)
		}
		// Room for the dev overlay plus about 1 CPU / 1 GiB for Kubernetes
		// itself and the ingress controller.
		dev := env.sizes["dev"]
		cpus, _ := strconv.Atoi(one(f, "--cpus"))
		if int64(cpus)*1000 < dev.cpuMilli+1000 {
			fail(w, "--cpus=%d leaves no room for the dev overlay's %.2f CPU", cpus, float64(dev.cpuMilli)/1000)
		}
		mem := one(f, "--memory")
		gib, err := strconv.Atoi(strings.TrimSuffix(mem, "g"))
		if err != nil || !strings.HasSuffix(mem, "g") || int64(gib)<<30 < dev.memory+1<<30 {
			fail(w, "--memory=%s leaves no room for the dev overlay's %.2f GiB", mem, float64(dev.memory)/(1<<30))
		}
	case "addons":
		if len(pos) < 4 || pos[2] != "enable" || (pos[3] != "ingress" && pos[3] != "metrics-server") {
			fail(w, "minikube addons: only `enable ingress` and `enable metrics-server` are part of the path")
		}
	default:
		fail(w, "no rule for minikube %s", pos[1])
	}
}

func checkKubectl(w string, f map[string][]string, pos []string, env *docEnv, namespaces, pullSecrets map[string]bool,
	certFile func(string, string), fail func(string, string, ...any)) {
	if ns := one(f, "-n", "--namespace"); ns != "" && !namespaces[ns] {
		fail(w, "namespace %q is neither created by the docs nor the ingress controller's", ns)
	}
	if len(pos) < 2 {
		fail(w, "kubectl: no subcommand")
		return
	}
	switch pos[1] {
	case "kustomize":
		if len(pos) < 3 {
			fail(w, "kubectl kustomize: no directory")
			return
		}
		if err := env.kubectlError(pos[2]); err != nil {
			fail(w, "%v", err)
		}
	case "create":
		if len(pos) < 3 {
			fail(w, "kubectl create: nothing to create")
			return
		}
		switch pos[2] {
		case "job":
			from := one(f, "--from")
			if !strings.HasPrefix(from, "cronjob/") || !env.objects[from] {
				fail(w, "kubectl create job: --from=%s is not a CronJob of the overlays", from)
			}
			if len(pos) < 4 {
				fail(w, "kubectl create job: no name")
				return
			}
			env.jobs["job/"+pos[3]] = true
		case "namespace":
		case "secret":
			if len(pos) < 5 {
				fail(w, "kubectl create secret: want a type and a name")
				return
			}
			kind, name := pos[3], pos[4]
			env.created[name] = true
			switch kind {
			case "tls":
				if key, ok := env.secrets[name]; !ok || key != "" {
					fail(w, "no Ingress of any overlay uses the TLS secret %q", name)
				}
				for _, p := range []string{one(f, "--cert"), one(f, "--key")} {
					if strings.HasPrefix(p, "infra/certs/") {
						certFile(w, p)
					}
				}
			case "generic":
				key, ok := env.secrets[name]
				if !ok || key == "" {
					fail(w, "no overlay reads the secret %q", name)
					return
				}
				var lits []string
				for _, l := range f["--from-literal"] {
					k, _, _ := strings.Cut(l, "=")
					lits = append(lits, k)
				}
				for _, l := range f["--from-file"] {
					k, _, ok := strings.Cut(l, "=")
					if !ok {
						k = filepath.Base(l)
					}
					lits = append(lits, k)
				}
				sort.Strings(lits)
				if lit := strings.Join(lits, ","); lit != key {
					fail(w, "secret %s: key %q, the manifests read %q", name, lit, key)
				}
			case "docker-registry":
				used := false
				for p := range pullSecrets {
					used = used || strings.Contains(p, `"name":"`+name+`"`)
				}
				if !used {
					fail(w, "the pull secret %q is not given to the service account", name)
				}
			default:
				fail(w, "no rule for secrets of type %s", kind)
			}
		default:
			fail(w, "no rule for kubectl create %s", pos[2])
		}
	case "patch":
		if len(pos) < 4 || pos[2] != "serviceaccount" || pos[3] != "default" {
			fail(w, "kubectl patch: only the default service account's pull secrets are part of the runbook")
			return
		}
		var p struct {
			ImagePullSecrets []struct {
				Name string `json:"name"`
			} `json:"imagePullSecrets"`
		}
		if err := yaml.UnmarshalStrict([]byte(one(f, "-p")), &p); err != nil || len(p.ImagePullSecrets) == 0 {
			fail(w, "kubectl patch serviceaccount: %v", err)
		}
	case "logs", "port-forward", "scale", "delete", "rollout":
		args := pos[2:]
		if pos[1] == "rollout" && len(args) > 0 {
			args = args[1:] // rollout restart|status|undo
		}
		env.checkRefs(w, args, fail)
		if pos[1] == "scale" && one(f, "--replicas") == "" {
			fail(w, "kubectl scale: no --replicas")
		}
	case "set":
		if len(pos) < 4 || pos[2] != "env" {
			fail(w, "no rule for kubectl set %v", pos[2:])
			return
		}
		for _, r := range env.checkRefs(w, pos[3:4], fail) {
			for _, kv := range pos[4:] {
				if name, _, _ := strings.Cut(kv, "="); !env.workloadEnv[r][name] {
					fail(w, "%s has no env %s to set", r, name)
				}
			}
		}
	case "wait":
		if strings.HasPrefix(one(f, "--for"), "condition=complete") {
			env.checkRefs(w, pos[2:], fail)
			return
		}
		if sel := one(f, "--selector", "-l"); sel != "" {
			if sel != "app.kubernetes.io/component=controller" || one(f, "--namespace", "-n") != env.ingressNS {
				fail(w, "wait for the ingress controller: namespace %s, selector app.kubernetes.io/component=controller", env.ingressNS)
			}
		} else if len(f["--all"]) == 0 {
			fail(w, "kubectl wait: want --all or a selector")
		}
	case "get":
		if len(pos) >= 4 && pos[2] == "ingress" && !env.ingresses[pos[3]] {
			fail(w, "no Ingress %q in the overlays", pos[3])
		}
	default:
		fail(w, "no rule for kubectl %s", pos[1])
	}
}

var (
	cpuMemRE = regexp.MustCompile(`([0-9]+\.[0-9]{2}) CPU / ([0-9]+\.[0-9]{2}) GiB`)
	volumeRE = regexp.MustCompile(`claims ([0-9]+) volumes of 1 GiB`)
	pinREs   = map[string]*regexp.Regexp{
		"kind":       regexp.MustCompile(`kind (v[0-9]+\.[0-9]+\.[0-9]+)`),
		"minikube":   regexp.MustCompile(`minikube (v[0-9]+\.[0-9]+\.[0-9]+)`),
		"Skaffold":   regexp.MustCompile(`Skaffold \| (v[0-9]+\.[0-9]+\.[0-9]+)`),
		"Kubernetes": regexp.MustCompile(`Kubernetes (v[0-9]+\.[0-9]+\.[0-9]+)`),
	}
)

// checkDocText: versions and sizing figures quoted in prose and tables.
func checkDocText(docs map[string]string, env *docEnv) []string {
	var errs []string
	want := map[string]string{"kind": kindVersion, "minikube": minikubeVersion, "Skaffold": env.skaffoldPin, "Kubernetes": kubernetesVersion}
	infra := docs["infra/README.md"]
	for _, name := range sortedKeys(pinREs) {
		ms := pinREs[name].FindAllStringSubmatch(infra, -1)
		if len(ms) == 0 {
			errs = append(errs, fmt.Sprintf("infra/README.md: no %s version in the prerequisites", name))
		}
		for _, m := range ms {
			if m[1] != want[name] {
				errs = append(errs, fmt.Sprintf("infra/README.md: %s %s, the pin is %s", name, m[1], want[name]))
			}
		}
	}
	figure := func(s sizing) string {
		return fmt.Sprintf("%.2f CPU / %.2f GiB", float64(s.cpuMilli)/1000, float64(s.memory)/(1<<30))
	}
	valid := map[string]bool{figure(env.sizes["dev"]): true, figure(env.sizes["prod"]): true}
	found := map[string]bool{}
	for _, m := range cpuMemRE.FindAllString(infra, -1) {
		found[m] = true
		if !valid[m] {
			errs = append(errs, fmt.Sprintf("infra/README.md: %q is neither the dev overlay's requests (%s) nor prod's (%s)", m, figure(env.sizes["dev"]), figure(env.sizes["prod"])))
		}
	}
	for _, ov := range []string{"dev", "prod"} {
		if !found[figure(env.sizes[ov])] {
			errs = append(errs, fmt.Sprintf("infra/README.md: does not state the %s overlay's requests, %s", ov, figure(env.sizes[ov])))
		}
	}
	if m := volumeRE.FindStringSubmatch(infra); m == nil || m[1] != strconv.Itoa(env.sizes["prod"].volumes) {
		errs = append(errs, fmt.Sprintf("infra/README.md: the prod overlay claims %d volumes of 1 GiB", env.sizes["prod"].volumes))
	}
	return errs
}

func readDocs(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, f := range docFiles {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(data)
	}
	return docs
}

func TestDocCommands(t *testing.T) {
	env := loadDocEnv(t)
	docs := readDocs(t)
	n := 0
	for _, f := range sortedKeys(docs) {
		cmds, _ := commands(f, docs[f])
		n += len(cmds)
	}
	if n < 30 {
		t.Errorf("only %d commands found in %v: is the block parser broken?", n, docFiles)
	}
	errs := checkDocs(docs, env)
	sort.Strings(errs)
	for _, e := range errs {
		t.Error(e)
	}
}
