// SLA countdowns as people read them: green while there is time, amber when little is
// left (a quarter of the allowance, at least 30 minutes), red once the deadline passed.

export function urgency({ remaining_minutes: remaining, minutes, breached }) {
  if (breached || (remaining !== null && remaining !== undefined && remaining <= 0)) return 'red'
  const warn = Math.max(30, (minutes || 0) / 4)
  return remaining !== null && remaining !== undefined && remaining <= warn ? 'amber' : 'green'
}

/** {overdue, days, hours, minutes} of the working minutes left (negative: overdue). */
export function countdownParts(remaining) {
  const overdue = remaining < 0
  let left = Math.round(Math.abs(remaining || 0))
  const days = Math.floor(left / 1440)
  left -= days * 1440
  return { overdue, days, hours: Math.floor(left / 60), minutes: left % 60 }
}
