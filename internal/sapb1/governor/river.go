package governor

import (
	"errors"

	"github.com/riverqueue/river"
)

// SnoozeOnBusy turns a *BusyError into river.JobSnooze after its RetryIn
// (plus jitter), so a River job that finds SAP busy frees its worker and
// comes back later without spending an attempt. Other errors (and nil) are
// returned unchanged. Use it on the error of Acquire or Do:
//
//	slot, err := g.Acquire(ctx, governor.Normal)
//	if err != nil {
//		return governor.SnoozeOnBusy(err)
//	}
func SnoozeOnBusy(err error) error {
	var busy *BusyError
	if errors.As(err, &busy) {
		return river.JobSnooze(Jitter(busy.RetryIn))
	}
	return err
}
