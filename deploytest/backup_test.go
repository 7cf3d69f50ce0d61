package deploytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// checkBackups: every Mongo replica set has a nightly CronJob that runs the
// backup script (mongobackup dump) for its database as the backup user (the password from the
// Secret the set mounts), writes to a PersistentVolumeClaim of the render,
// never overlaps itself, and that the NetworkPolicies let reach the set.
func checkBackups(b *bundle) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	for _, s := range b.statefulSets {
		c := containerNamed(&s.Spec.Template, "mongo")
		if c == nil {
			continue
		}
		db := strings.TrimSuffix(s.Name, "-mongo")
		var secret string
		for _, v := range s.Spec.Template.Spec.Volumes {
			if v.Name == "auth" && v.Secret != nil {
				secret = v.Secret.SecretName
			}
		}
		var cj *batchv1.CronJob
		for _, j := range b.cronJobs {
			if j.Name == s.Name+"-backup" {
				cj = j
			}
		}
		if cj == nil {
			fail("StatefulSet %s: no CronJob %s-backup", s.Name, s.Name)
			continue
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			fail("CronJob %s: concurrencyPolicy must be Forbid (two dumps would write over each other)", cj.Name)
		}
		if f := strings.Fields(cj.Spec.Schedule); len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
			fail("CronJob %s: schedule %q is not nightly", cj.Name, cj.Spec.Schedule)
		}
		tmpl := &cj.Spec.JobTemplate.Spec.Template
		bc := checkToolJob(b, fail, cj, "backup", "mongobackup dump", db, "BACKUP_PASSWORD", secret, "backup-password")
		if bc == nil {
			continue
		}
		onPVC := false
		for _, vm := range bc.VolumeMounts {
			for _, v := range tmpl.Spec.Volumes {
				onPVC = onPVC || (vm.MountPath == "/backup" && v.Name == vm.Name && v.PersistentVolumeClaim != nil && b.pvcs[v.PersistentVolumeClaim.ClaimName] != nil)
			}
		}
		if !onPVC {
			fail("CronJob %s: /backup is not a PersistentVolumeClaim of the render", cj.Name)
		}
		if !allowed(b, tmpl.Labels, s.Spec.Template.Labels, 27017) {
			fail("CronJob %s: the NetworkPolicies do not let it reach %s on 27017", cj.Name, s.Name)
		}
		checkRestore(b, fail, s.Name, db, secret)
	}
	slices.Sort(errs)
	return errs
}

// checkRestore: the suspended restore CronJob of a database runs
// mongobackup restore as root from the same backup volume, never on a schedule.
func checkRestore(b *bundle, fail func(string, ...any), sts, db, secret string) {
	var cj, backup *batchv1.CronJob
	for _, j := range b.cronJobs {
		switch j.Name {
		case sts + "-restore":
			cj = j
		case sts + "-backup":
			backup = j
		}
	}
	if cj == nil {
		fail("StatefulSet %s: no CronJob %s-restore", sts, sts)
		return
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		fail("CronJob %s: must be suspended (a restore runs by hand, never on a schedule)", cj.Name)
	}
	tmpl := &cj.Spec.JobTemplate.Spec.Template
	if checkToolJob(b, fail, cj, "restore", "mongobackup restore", db, "ROOT_PASSWORD", secret, "root-password") == nil {
		return
	}
	claim := func(j *batchv1.CronJob) string {
		for _, v := range j.Spec.JobTemplate.Spec.Template.Spec.Volumes {
			if v.Name == "backup" && v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName
			}
		}
		return ""
	}
	if backup != nil && claim(cj) != claim(backup) {
		fail("CronJob %s: restores from %q, the backup writes to %q", cj.Name, claim(cj), claim(backup))
	}
	if !allowed(b, tmpl.Labels, b.statefulSetLabels(sts), 27017) {
		fail("CronJob %s: the NetworkPolicies do not let it reach %s on 27017", cj.Name, sts)
	}
}

// checkToolJob: the CronJob's container runs, on the image of the tool
// (backupImage, which the overlay's skaffold profile must build: check), a
// mounted script that calls tool for database db, with the password in pwEnv from the Secret key the
// replica set's user was created with. It returns the container (nil if
// missing).
func checkToolJob(b *bundle, fail func(string, ...any), cj *batchv1.CronJob, container, tool, db, pwEnv, secret, key string) *corev1.Container {
	tmpl := &cj.Spec.JobTemplate.Spec.Template
	c := containerNamed(tmpl, container)
	if c == nil {
		fail("CronJob %s: no container %s", cj.Name, container)
		return nil
	}
	if imageName(c.Image) != backupImage {
		fail("CronJob %s: image %s, want %s (the tool its script runs)", cj.Name, c.Image, backupImage)
	}
	if script, ok := mountedFile(b, tmpl, c, lastArg(c.Command)); !ok || !strings.Contains(script, tool+" ") {
		fail("CronJob %s: %v does not run a mounted script with %s", cj.Name, c.Command, tool)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if env["SVC"].Value != db {
		fail("CronJob %s: SVC=%q, want %s", cj.Name, env["SVC"].Value, db)
	}
	if pw := env[pwEnv].ValueFrom; pw == nil || pw.SecretKeyRef == nil || pw.SecretKeyRef.Name != secret || pw.SecretKeyRef.Key != key {
		fail("CronJob %s: %s must be Secret %s key %s", cj.Name, pwEnv, secret, key)
	}
	return c
}

func (b *bundle) statefulSetLabels(name string) map[string]string {
	for _, s := range b.statefulSets {
		if s.Name == name {
			return s.Spec.Template.Labels
		}
	}
	return nil
}

func lastArg(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[len(xs)-1]
}

func TestBackupPlantedMistakes(t *testing.T) {
	src := render(t, "prod")
	cron := func(b *bundle, name string) *batchv1.CronJob {
		for _, j := range b.cronJobs {
			if j.Name == name {
				return j
			}
		}
		t.Fatalf("no CronJob %s", name)
		return nil
	}
	cases := []plantedCase{
		{"no backup of a database", "StatefulSet orders-mongo: no CronJob orders-mongo-backup", func(b *bundle) {
			b.cronJobs = slices.DeleteFunc(b.cronJobs, func(j *batchv1.CronJob) bool { return j.Name == "orders-mongo-backup" })
		}},
		{"dumps overlap", "CronJob auth-mongo-backup: concurrencyPolicy must be Forbid", func(b *bundle) {
			cron(b, "auth-mongo-backup").Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
		}},
		{"another database", "CronJob tickets-mongo-backup: SVC=\"orders\"", func(b *bundle) {
			cron(b, "tickets-mongo-backup").Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env[0].Value = "orders"
		}},
		{"root password", "CronJob payments-mongo-backup: BACKUP_PASSWORD must be Secret payments-mongo-auth key backup-password", func(b *bundle) {
			for _, e := range cron(b, "payments-mongo-backup").Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env {
				if e.Name == "BACKUP_PASSWORD" {
					e.ValueFrom.SecretKeyRef.Key = "root-password"
				}
			}
		}},
		{"database does not admit it", "CronJob expiration-mongo-backup: the NetworkPolicies do not let it reach expiration-mongo", func(b *bundle) {
			b.netpols = slices.DeleteFunc(b.netpols, func(np *networkingv1.NetworkPolicy) bool { return np.Name == "expiration-mongo-admits-backup" })
		}},
		{"restore on a schedule", "CronJob orders-mongo-restore: must be suspended", func(b *bundle) {
			no := false
			cron(b, "orders-mongo-restore").Spec.Suspend = &no
		}},
		{"restore from another volume", "CronJob tickets-mongo-restore: restores from \"auth-mongo-backup\"", func(b *bundle) {
			cron(b, "tickets-mongo-restore").Spec.JobTemplate.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName = "auth-mongo-backup"
		}},
		{"another image", "CronJob expiration-mongo-restore: image mongo:7.0.16, want ticketing/mongobackup", func(b *bundle) {
			cron(b, "expiration-mongo-restore").Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "mongo:7.0.16"
		}},
		{"dump to an ephemeral volume", "CronJob auth-mongo-backup: /backup is not a PersistentVolumeClaim", func(b *bundle) {
			delete(b.pvcs, "auth-mongo-backup")
		}},
	}
	runPlanted(t, src, checkBackups, cases)
}
