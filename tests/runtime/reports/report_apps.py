"""The apps of the alert and report tests: deals against weekly targets, leads with a
daily report (not market templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.definitions import entity, field, minimal_app, option, title

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "SECdaily-brief"


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=SHANGHAI)


def alert_app() -> dict[str, Any]:
    deal = entity("deal", "成交", "Deal", [
        field("name", "text", "名称", "Name"),
        field("amount", "money", "金额", "Amount"),
        field("closed_on", "date", "成交日期", "Closed on")], title_field="name")
    target = entity("sales_target", "销售目标", "Sales target", [
        field("rep", "user", "销售", "Rep"),
        field("week", "date", "周", "Week"),
        field("amount", "money", "目标", "Target")])
    task = entity("coaching_task", "辅导任务", "Coaching task", [
        field("title", "text", "标题", "Title", required=True),
        field("rep", "user", "销售", "Rep"),
        field("achievement", "number", "达成率", "Achievement"),
        field("week", "text", "周", "Week")], title_field="title")
    app = minimal_app(deal, target, task)
    app["key"] = "sales"
    app["metrics"] = [{"key": "won_amount", "title": title("成交金额", "Won amount"),
                       "entity": "deal", "aggregate": "sum", "field": "amount",
                       "time_field": "closed_on", "period": "week"}]
    app["alerts"] = [{
        "key": "coaching", "title": title("连续两周达成率低于65%", "Under 65% two weeks"),
        "metric": "won_amount", "subject": "owner", "periods": 2,
        "target": {"entity": "sales_target", "field": "amount", "date_field": "week",
                   "dimension": "rep"},
        "condition": {"<": [{"var": "achievement"}, 0.65]},
        "schedule": {"cron": "0 9 * * 1", "timezone": "Asia/Shanghai"},
        "actions": [
            {"type": "create_record", "entity": "coaching_task",
             "set": {"title": {"cat": ["辅导:", {"var": "subject_name"}]},
                     "rep": {"var": "subject"}, "achievement": {"var": "achievement_pct"},
                     "week": {"var": "period_start"}},
             "owner": {"var": "subject"}},
            {"type": "notify", "to": [{"manager_of": "subject"}],
             "subject": {"zh-CN": "{subject_name} 连续两周未达成目标的65%",
                         "en": "{subject_name} under 65% of target two weeks running"},
             "message": {"zh-CN": "上周达成率 {achievement_pct}%,已创建辅导任务",
                         "en": "Last week {achievement_pct}% of target"}}]}, {
        "key": "below_average", "title": title("低于团队平均20%", "20% below team average"),
        "metric": "won_amount", "condition": {"<": [{"var": "vs_team_average"}, 0.8]},
        "schedule": {"cron": "0 9 * * 1"},
        "actions": [{"type": "notify", "to": ["subject"],
                     "message": "{value} / {team_average}"}]}]
    return app


def report_app(robot_url: str) -> dict[str, Any]:
    lead = entity("lead", "线索", "Lead", [
        field("name", "text", "名称", "Name"),
        field("status", "select", "状态", "Status", default="new", options=[
            option("new", "新建", "New"), option("contacted", "已联系", "Contacted"),
            option("won", "赢单", "Won"), option("lost", "输单", "Lost")])],
        title_field="name")
    app = minimal_app(lead)
    app["key"] = "sales"
    app["stage_flows"] = [{"key": "lead_flow", "entity": "lead", "field": "status",
                           "stages": [{"key": "new", "title": title("新建")},
                                      {"key": "contacted", "title": title("已联系")},
                                      {"key": "won", "title": title("赢单"), "terminal": "won"},
                                      {"key": "lost", "title": title("输单"),
                                       "terminal": "lost"}]}]
    app["metrics"] = [{"key": "new_leads", "title": title("新线索", "New leads"),
                       "entity": "lead", "aggregate": "count", "time_field": "created_at",
                       "period": "day"}]
    app["dashboards"] = [{"key": "sales", "title": title("销售看板"), "widgets": [
        {"key": "funnel", "type": "funnel", "title": title("线索转化漏斗", "Lead funnel"),
         "metrics": ["new_leads"], "options": {"flow": "lead_flow", "window": "all"}}]}]
    app["roles"] = [
        {"key": "rep", "title": title("销售"), "permissions": [
            {"entity": "*", "actions": ["read", "create", "update"], "scope": "own"}]},
        {"key": "manager", "title": title("主管"), "permissions": [
            {"entity": "*", "actions": ["read"], "scope": "team"}]}]
    app["reports"] = [{
        "key": "daily_brief", "title": title("销售日报", "Daily sales brief"),
        "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Shanghai"}, "period": "day",
        "recipients": [{"role": "rep"}, {"role": "manager"}], "channels": ["inbox"],
        "robots": [{"format": "dingtalk", "url": f"{robot_url}?access_token=tok123abc",
                    "secret": SECRET}],
        "sections": [
            {"key": "kpi", "type": "metrics", "metrics": ["new_leads"]},
            {"key": "funnel", "type": "widget", "dashboard": "sales", "widget": "funnel"},
            {"key": "stuck", "type": "stuck_records", "title": title("TOP3卡点", "Top 3"),
             "entity": "lead", "filter": {"==": [{"var": "status"}, "new"]}, "limit": 3}],
        "circuit_breaker": {"threshold": 0.35}}]
    return app
