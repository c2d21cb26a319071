// The two steps of every market operation: read its plan (a dry run), then run it in the
// background and follow its job until the report comes back.
import { onBeforeUnmount, reactive } from 'vue'
import { jobs } from '../../api/market.js'

export function useOperation() {
  const op = reactive({ open: false, title: '', phase: 'idle', report: null, progress: 0, message: '', error: '', run: null })
  let timer = null

  function problems(error) {
    return error.details?.length ? error.details.map((d) => d.message).join('；') : error.message
  }
  /** `run(options)` calls the API; the plan is `run({dry_run: true})`. */
  async function start(title, run) {
    Object.assign(op, { open: true, title, phase: 'planning', report: null, progress: 0, message: '', error: '', run })
    try {
      op.report = await run({ dry_run: true })
      op.phase = 'planned'
    } catch (error) {
      op.error = problems(error)
      op.phase = 'failed'
    }
  }
  async function confirm(onDone) {
    op.phase = 'running'
    try {
      const answer = await op.run({ dry_run: false, background: true })
      if (!answer?.job) {
        op.report = answer
        op.phase = 'done'
        onDone?.()
        return
      }
      timer = setInterval(async () => {
        const job = await jobs.get(answer.job).catch(() => null)
        if (!job) return
        op.progress = Math.round(job.progress?.percent ?? 0)
        op.message = job.progress?.message || ''
        if (['finished', 'failed', 'cancelled'].includes(job.status)) {
          clearInterval(timer)
          if (job.status === 'finished') {
            op.report = job.result
            op.phase = 'done'
            onDone?.()
          } else {
            op.error = job.error?.message || job.error || job.status
            op.phase = 'failed'
          }
        }
      }, 700)
    } catch (error) {
      op.error = problems(error)
      op.phase = 'failed'
    }
  }
  onBeforeUnmount(() => clearInterval(timer))
  return { op, start, confirm }
}
