// SLA countdown colours and wording parts.
import { describe, expect, it } from 'vitest'
import { countdownParts, urgency } from '../src/logic/countdown.js'

describe('countdowns', () => {
  it('is green with time left, amber near the end, red once overdue', () => {
    expect(urgency({ remaining_minutes: 200, minutes: 480, breached: false })).toBe('green')
    expect(urgency({ remaining_minutes: 120, minutes: 480, breached: false })).toBe('amber') // a quarter left
    expect(urgency({ remaining_minutes: 31, minutes: 60, breached: false })).toBe('green')
    expect(urgency({ remaining_minutes: 30, minutes: 60, breached: false })).toBe('amber') // at least 30 min
    expect(urgency({ remaining_minutes: 0, minutes: 60, breached: true })).toBe('red')
    expect(urgency({ remaining_minutes: -5, minutes: 60, breached: false })).toBe('red')
  })

  it('splits the minutes left or overdue', () => {
    expect(countdownParts(1570)).toEqual({ overdue: false, days: 1, hours: 2, minutes: 10 })
    expect(countdownParts(-40)).toEqual({ overdue: true, days: 0, hours: 0, minutes: 40 })
  })
})
