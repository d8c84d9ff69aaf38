/**
 * Folding an `AlertRaised` event into its job. Pure and idempotent (by alert id).
 *
 * - The alert belongs to the sync named by its context (`syncId`, or the sync prefix of `sliceId`), else to the
 *   job's current sync. An alert about another sync than the current one is stale (the job was resynced since).
 * - Every alert about the current sync is kept (the newest {@link MAX_JOB_ALERTS}); `RESYNC_REQUIRED` tells the
 *   user to resync.
 * - `SLICE_REJECTED` also marks the job `blocked`: the pipeline of this sync stopped on a dead-lettered slice.
 *   The next sync clears it.
 * - job-state's own lifecycle events (`lifecycle` set, docs/api.md "Alerts"): an OPEN one is kept like any alert
 *   (a raised alert opens under the stage's id, so it is not kept twice); a CLOSED one marks the kept alert of its
 *   id closed (`closedAt`, `closeReason`) and adds nothing.
 */
import { ALERT_CODES, type Alert } from '@tidemark/domain';
import { MAX_JOB_ALERTS, type JobAlert, type JobRecord } from './job-record';
import type { FoldResult } from './phase-fold';

/** The sync an alert names: `context.syncId`, or the part of `context.sliceId` before its first `:`. */
export function alertSyncId(alert: Alert): string | undefined {
  const named = alert.context['syncId'];
  if (named !== undefined && named !== '') return named;
  const sliceId = alert.context['sliceId'];
  if (sliceId !== undefined) {
    const colon = sliceId.indexOf(':');
    if (colon > 0) return sliceId.slice(0, colon);
  }
  return undefined;
}

export function foldAlert(job: JobRecord, alert: Alert): FoldResult {
  if (alert.lifecycle?.state === 'closed') return foldAlertClosed(job, alert);
  if (job.alerts.some((a) => a.alertId === alert.alertId)) return { outcome: 'unchanged' };
  const syncId = alertSyncId(alert) ?? job.syncId;
  if (syncId !== undefined && job.syncId !== undefined && syncId !== job.syncId)
    return { outcome: 'stale-sync' };
  const entry: JobAlert = {
    alertId: alert.alertId,
    code: alert.code,
    severity: alert.severity,
    message: alert.message,
    context: { ...alert.context },
    at: alert.at,
    syncId,
  };
  const alerts = [...job.alerts, entry].slice(-MAX_JOB_ALERTS);
  const blocked =
    alert.code === ALERT_CODES.sliceRejected && job.blocked === undefined
      ? { code: alert.code, message: alert.message, alertId: alert.alertId, at: alert.at }
      : job.blocked;
  return { outcome: 'applied', job: { ...job, alerts, blocked } };
}

function foldAlertClosed(job: JobRecord, alert: Alert): FoldResult {
  const kept = job.alerts.find((a) => a.alertId === alert.alertId);
  if (kept === undefined || kept.closedAt !== undefined) return { outcome: 'unchanged' };
  const closedAt = alert.lifecycle?.closedAt ?? alert.at;
  const closeReason = alert.lifecycle?.closeReason;
  const alerts = job.alerts.map((a) =>
    a.alertId === alert.alertId
      ? { ...a, closedAt, ...(closeReason === undefined ? {} : { closeReason }) }
      : a,
  );
  return { outcome: 'applied', job: { ...job, alerts } };
}
