// Every interface string exists in both languages, and every key the code uses exists.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import zhCN from '../src/locales/zh-CN.json'
import en from '../src/locales/en.json'

function flatten(tree, prefix = '') {
  return Object.entries(tree).flatMap(([key, value]) => (typeof value === 'object' ? flatten(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]]))
}
const zhKeys = new Map(flatten(zhCN))
const enKeys = new Map(flatten(en))

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : /\.(vue|js)$/.test(name) ? [path] : []
  })
}
const SRC = fileURLToPath(new URL('../src', import.meta.url))
const code = sources(SRC).map((path) => readFileSync(path, 'utf8')).join('\n')

describe('locales', () => {
  it('zh-CN and en have the same keys, none empty', () => {
    expect([...zhKeys.keys()].sort()).toEqual([...enKeys.keys()].sort())
    for (const [key, value] of [...zhKeys, ...enKeys]) expect(value.trim(), key).not.toBe('')
  })

  it('placeholders match between the languages', () => {
    const names = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    for (const [key, value] of zhKeys) expect(names(enKeys.get(key)), key).toEqual(names(value))
  })

  it('every literal key the code uses exists', () => {
    const used = [...code.matchAll(/\bt\(\s*'([a-z_]+(?:\.[a-z_]+)+)'/g)].map((m) => m[1])
    expect(used.length).toBeGreaterThan(100)
    const missing = [...new Set(used)].filter((key) => !zhKeys.has(key))
    expect(missing).toEqual([])
  })

  it('keys built at run time exist for every value they are built from', () => {
    const dynamic = {
      'cond.op': ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'contains', 'not_contains', 'in', 'not_in', 'has', 'not_has', 'is_me', 'not_me', 'is_true', 'is_false', 'empty', 'not_empty'],
      'palette.group': ['text', 'number', 'choice', 'time', 'reference', 'files', 'computed', 'other'],
      'history.action': ['create', 'update', 'delete', 'restore'],
      'approvals.action': ['approve', 'reject', 'return', 'delegate'],
      'approvals.done': ['approve', 'reject', 'return', 'delegate'],
      'approvals.status': ['pending', 'approved', 'rejected', 'returned', 'withdrawn'],
      'approvals.step_status': ['waiting', 'skipped', 'pending', 'approved', 'rejected', 'returned', 'cancelled'],
      timeline: ['submit', 'approve', 'reject', 'withdraw'].map((action) => `approval_${action}`),
      'processes.chain.approver_type': ['manager_of', 'role', 'user', 'field'],
      'processes.chain.no_approver': ['fail', 'skip', 'admins'],
      'processes.sla.starts': ['created', 'stage_entered', 'field_set'],
      'processes.sla.days': [1, 2, 3, 4, 5, 6, 7].map((d) => `d${d}`),
      'processes.automation.triggers': ['created', 'updated', 'field_changed', 'stage_entered', 'stage_left', 'approval_decided', 'date_reached', 'no_activity', 'schedule'],
      'processes.action.types': ['notify', 'set_fields', 'start_approval'],
      'processes.action.to': ['owner', 'creator', 'manager_of_owner', 'role'],
      'processes.metric.aggregates': ['count', 'distinct_count', 'sum', 'avg', 'min', 'max', 'median', 'ratio'],
      'processes.metric.periods': ['day', 'week', 'month', 'quarter', 'year'],
      'admin.actions': ['read', 'create', 'update', 'delete', 'import', 'export', 'print', 'approve', 'configure'],
      'market.app_action': ['create', 'restore', 'upgrade', 'unchanged', 'uninstall', 'purge'],
      'admin.scopes': ['all', 'own', 'team', 'managed'],
      'processes.dashboard.types': ['number', 'bar', 'line', 'pie', 'funnel', 'leaderboard', 'heatmap', 'target'],
    }
    for (const [prefix, values] of Object.entries(dynamic)) {
      for (const value of values) expect(zhKeys.has(`${prefix}.${value}`), `${prefix}.${value}`).toBe(true)
    }
  })
})
