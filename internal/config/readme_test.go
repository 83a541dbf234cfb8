package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/config"
)

// The README's configuration table is what IT reads before a deploy; it must
// name every variable with its real default.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Variables() {
		var row string
		for line := range strings.SplitSeq(string(readme), "\n") {
			if strings.HasPrefix(line, "| `"+v.Name+"`") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("README.md has no row for %s", v.Name)
			continue
		}
		if v.Default != "" && !strings.Contains(row, "`"+v.Default+"`") {
			t.Errorf("README.md row for %s does not give its default %q", v.Name, v.Default)
		}
		if v.Secret && !strings.Contains(row, v.Name+"_FILE") {
			t.Errorf("README.md row for secret %s does not mention %s_FILE", v.Name, v.Name)
		}
	}
}
