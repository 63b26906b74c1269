"""What each chart draws, as plain JSON for reports.js (numbers as numbers, labels as text).

The page passes these with `json_script` (no inline script: the Content-Security-Policy forbids
it); every chart's numbers are also in the table beside it.
"""

from __future__ import annotations

from .figures import Report


def _number(value) -> float | None:
    return None if value is None else float(value)


def charts_of(report: Report) -> dict[str, dict]:
    sales_labels = [row.label for row in report.sales]
    return {
        "sales-chart": {
            "type": "bar",
            "labels": sales_labels,
            "datasets": [
                {
                    "label": f"Revenue ({report.currency})",
                    "data": [_number(row.revenue) for row in report.sales],
                },
            ],
        },
        "orders-chart": {
            "type": "line",
            "labels": sales_labels,
            "datasets": [{"label": "Orders", "data": [row.orders for row in report.sales]}],
        },
        "status-chart": {
            "type": "bar",
            "horizontal": True,
            "labels": [row.label for row in report.statuses],
            "datasets": [{"label": "Orders", "data": [row.count for row in report.statuses]}],
        },
        "shipping-chart": {
            "type": "bar",
            "horizontal": True,
            "labels": [row.label for row in report.shipping_statuses],
            "datasets": [{"label": "Shipments", "data": [row.count for row in report.shipping_statuses]}],
        },
        "fulfillment-chart": {
            "type": "line",
            "labels": [row.label for row in report.fulfillment_times],
            "datasets": [
                {
                    "label": "Days to in transit",
                    "data": [_number(row.days_to_in_transit) for row in report.fulfillment_times],
                },
                {
                    "label": "Days to delivered",
                    "data": [_number(row.days_to_delivered) for row in report.fulfillment_times],
                },
            ],
        },
        "cost-chart": {
            "type": "bar",
            "labels": [row.label for row in report.cost_by_period],
            "datasets": [
                {"label": "Revenue", "data": [_number(row.revenue) for row in report.cost_by_period]},
                {"label": "Cost", "data": [_number(row.cost) for row in report.cost_by_period]},
            ],
        },
        "after-sales-chart": {
            "type": "bar",
            "horizontal": True,
            "labels": [row.label for row in report.after_sales_by_type],
            "datasets": [{"label": "Cases", "data": [row.count for row in report.after_sales_by_type]}],
        },
        "scorecard-chart": {
            "type": "bar",
            "horizontal": True,
            "percent": True,
            "labels": [score.name for score in report.scorecard],
            "datasets": [
                {"label": "On-time dispatch %", "data": [_number(s.on_time_rate) for s in report.scorecard]},
                {"label": "Exception %", "data": [_number(s.exception_rate) for s in report.scorecard]},
            ],
        },
    }
