// List views: the app's own and the ones a person saves in the browser.
import { describe, expect, it } from 'vitest'
import { definedViews, deleteView, saveView, savedViews, sortText } from '../src/logic/views.js'

function memory() {
  const data = {}
  return { getItem: (k) => data[k] ?? null, setItem: (k, v) => { data[k] = v } }
}

describe('list views', () => {
  it('reads the definition\'s list views', () => {
    const entity = { views: [{ key: 'all', type: 'list', title: { 'zh-CN': '全部' }, columns: ['a'], sort: [{ field: 'b', desc: true }, { field: 'a' }], filter: { '==': [1, 1] } }, { key: 'k', type: 'kanban' }] }
    expect(definedViews(entity)).toEqual([{ key: 'all', title: { 'zh-CN': '全部' }, columns: ['a'], sort: '-b,a', filter: { '==': [1, 1] }, saved: false }])
    expect(sortText([])).toBe('')
  })

  it('saves, replaces by title and deletes views per app and entity', () => {
    const storage = memory()
    const first = saveView('crm', 'deal', { title: '大单', columns: ['name'], sort: '-amount', filter: { '>': [{ var: 'amount' }, 9] } }, storage)
    saveView('crm', 'deal', { title: '大单', columns: ['name', 'amount'], sort: '-amount', filter: null }, storage)
    const views = savedViews('crm', 'deal', storage)
    expect(views).toHaveLength(1)
    expect(views[0]).toMatchObject({ title: '大单', columns: ['name', 'amount'], saved: true })
    expect(savedViews('crm', 'customer', storage)).toEqual([])
    expect(deleteView('crm', 'deal', views[0].key, storage)).toEqual([])
    expect(first.views).toHaveLength(1)
  })
})
