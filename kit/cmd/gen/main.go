// Command gen renders the repository's templates from the services' table
// (kit/gen): `make generate` after changing kit/services or a *.tmpl.
// With -check it changes nothing and exits 1 when a generated file is out
// of date.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ticketing-go/ticketing/kit/gen"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	check := flag.Bool("check", false, "report out-of-date generated files instead of writing them")
	flag.Parse()
	if *check {
		problems, err := gen.Check(*root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(2)
		}
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p)
		}
		if len(problems) > 0 {
			fmt.Fprintln(os.Stderr, "gen: run `make generate`")
			os.Exit(1)
		}
		return
	}
	changed, err := gen.Write(*root)
	for _, p := range changed {
		fmt.Println(p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
