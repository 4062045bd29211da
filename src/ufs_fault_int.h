/*
 * ufs_fault — a fault-injecting under-storage driver for tests (SQLite's
 * fault tests, curl's torture): it wraps another driver (src/ufs_int.h) and
 * passes every op through, except the ones its plan says fail.
 *
 * Every op that can fail (not close, stage_abort, stage_keep, stage_gc,
 * stage_forget, free) is counted, all kinds together or one kind only; the plan's at-th
 * counted op (and the times - 1 after it) fails with the plan's error:
 *   - before it runs (nothing happened), or with after set, once it ran
 *     (it happened, the caller hears it failed: a lost reply);
 *   - a pread or stage_pread with short_read returns half the bytes asked
 *     instead, as if the file ended there;
 *   - with crash, the driver stops there: no later op passes through (each
 *     fails with the error; files and stages are still released, and a
 *     stage aborted then does go), and on_crash, if set, is called at that
 *     moment, after the op with after: a forked test child calls _exit
 *     there, so the data directory is left exactly as a crash would.
 * A test then opens the core again over the real directory and checks it
 * comes up consistent.
 *
 * hide_caps hides capabilities of the wrapped driver from the core (a
 * driver without them, as a remote store is).
 *
 * Ownership: the fault driver owns the wrapped one (its free frees it);
 * files are the wrapped driver's, passed through as they are; stages wrap
 * the wrapped driver's, so that a commit with a lost reply can leave its
 * caller a stage that is gone (every op on it then: ATR_E_NO_KEY).
 * Thread-safety: ops may run concurrently; a mutex guards the plan and the
 * counters, never held across the wrapped op or on_crash.
 */
#ifndef SRC_UFS_FAULT_INT_H
#define SRC_UFS_FAULT_INT_H

#include "src/ufs_int.h"

/* The ops that can fail, one kind each. */
enum ufs_op {
	UFS_OP_ANY = 0,
	UFS_OP_STAT,
	UFS_OP_OPEN,
	UFS_OP_PREAD,
	UFS_OP_READDIR,
	UFS_OP_MKDIR,
	UFS_OP_RMDIR,
	UFS_OP_UNLINK,
	UFS_OP_STAGE_OPEN,
	UFS_OP_STAGE_WRITE,
	UFS_OP_STAGE_PREPARE,
	UFS_OP_STAGE_COMMIT,
	UFS_OP_STAGE_RECOVER,
	UFS_OP_RENAME,
	UFS_OP_RENAME_REPLACE,
	UFS_OP_LINK,
	UFS_OP_STAGE_LINK,
	UFS_OP_STAGE_COPY,
	UFS_OP_PART_COMMIT,
	UFS_OP_STAGE_APPEND_PART,
	UFS_OP_PART_UNLINK,
	UFS_OP_PART_REMOVE_UPLOAD,
	UFS_OP_PART_READDIR,
	UFS_OP_STAGE_PWRITE,
	UFS_OP_STAGE_PREAD,
	UFS_OP_STAGE_TRUNCATE,
	UFS_OP_UTIMENS,
	UFS_OP_STAGE_SET_MTIME,
	UFS_OP_STATFS,
	UFS_OP_NEXT_DATA,
	UFS_OP__COUNT
};

struct ufs_fault_plan {
	unsigned long at;    /* the at-th counted op fails (1: the first); 0: none */
	unsigned long times; /* ...and the times - 1 counted ops after it (0: 1) */
	enum ufs_op kind;    /* counts ops of this kind only (UFS_OP_ANY: all) */
	int err;             /* what a failed op returns (0: ATR_E_IO) */
	int after;           /* the op runs first, then is reported failed */
	int short_read;      /* a failing pread/stage_pread returns half instead */
	int crash;           /* the driver stops at the fault */
	void (*on_crash)(void *arg);
	void *crash_arg;
	unsigned hide_caps;  /* ufs_fault_new only: capabilities not shown */
	/* Called with each counted op (its kind and number) before it runs:
	 * a test says where it failed. */
	void (*trace)(void *arg, enum ufs_op k, unsigned long n);
	void *trace_arg;
};

struct ufs_fault_stats {
	unsigned long counted; /* ops counted since the plan was set */
	unsigned long fired;   /* of them, those the plan made fail */
	int crashed;
};

/* A fault driver over inner with plan (NULL: no fault yet), which owns
 * inner from then on; on failure (ATR_E_NOMEM) inner stays the caller's. */
int ufs_fault_new(struct ufs *inner, const struct ufs_fault_plan *plan, struct ufs **out);
/* A new plan (NULL: none), counters reset, the crash undone. hide_caps
 * is not changed (the core has seen the capabilities).
 * ATR_E_INVALID_ARG if u is not a fault driver. */
int ufs_fault_set(struct ufs *u, const struct ufs_fault_plan *plan);
void ufs_fault_stats(struct ufs *u, struct ufs_fault_stats *out);
/* "stat", "stage_commit"...; "any" for UFS_OP_ANY. */
const char *ufs_fault_op_name(enum ufs_op k);

#endif
