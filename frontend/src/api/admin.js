// Tenant administration: users, roles and teams of my tenant (tenant admins only).
import { get, patch, post } from './client.js'

export const adminApi = {
  users: () => get('/admin/users'),
  createUser: (body) => post('/admin/users', body),
  updateUser: (id, body) => patch(`/admin/users/${id}`, body),
  roles: () => get('/admin/roles'),
  createRole: (body) => post('/admin/roles', body),
  teams: () => get('/admin/teams'),
  createTeam: (body) => post('/admin/teams', body),
  updateTeam: (id, body) => patch(`/admin/teams/${id}`, body),
}
