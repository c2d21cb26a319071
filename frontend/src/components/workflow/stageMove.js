// Moving a record to another stage, as the kanban and the record page's stage bar do it:
// ask for the reason when the stage keeps one (lost reason), call the transition, and on a
// refusal keep every unmet condition for <UnmetConditions> to show.
import { reactive } from 'vue'
import { ElMessageBox } from 'element-plus'
import { stages } from '../../api/stages.js'
import { localize } from '../../i18n.js'

export function useStageMove(t) {
  const refusal = reactive({ open: false, stage: '', messages: [] })

  /**
   * Move `record` to `column` ({key, title, reasonField}) of `flow`. Returns the moved
   * record, or null when refused (refusal filled in) or cancelled.
   */
  async function move(appKey, entity, record, flow, column) {
    const data = {}
    let reason
    if (column.reasonField) {
      const field = (entity.fields || []).find((f) => f.key === column.reasonField)
      try {
        const answer = await ElMessageBox.prompt(
          localize(field?.title) || column.reasonField,
          t('stage.reason_title', { stage: localize(column.title) }),
          { confirmButtonText: t('stage.move'), cancelButtonText: t('common.cancel'), inputType: 'textarea', inputValidator: (v) => Boolean(v && v.trim()) || t('form.required') },
        )
        reason = answer.value.trim()
        data[column.reasonField] = reason
      } catch {
        return null
      }
    }
    try {
      return await stages.transition(appKey, entity.key, record.id, { to: column.key, version: record.version, data, reason, flow: flow?.key })
    } catch (error) {
      refusal.stage = localize(column.title)
      refusal.messages = error.details?.length ? error.details.map((d) => d.message) : [error.message]
      if (error.status === 409) refusal.messages = [t('form.conflict')]
      refusal.open = true
      return null
    }
  }

  return { refusal, move }
}
