// Command mongobackup dumps a MongoDB database to a directory in
// mongodump's layout and restores it (package mongobackup): the production
// backup and restore CronJobs run it
// (infra/k8s/components/production/mongo-backup.sh, mongo-restore.sh).
//
// Exit status: 0 done, 1 the dump or restore failed, 2 bad command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketing-go/ticketing/common/mongobackup"
)

func main() {
	// SIGTERM (the Job's deadline, a deleted pod) stops a dump before its
	// rename: it leaves only <out>.part.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := mongobackup.Run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongobackup:", err)
	}
	os.Exit(mongobackup.ExitCode(err))
}
