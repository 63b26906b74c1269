"""Money: how amounts are stored (Decimal columns) and written for people ("PHP 1,234.50")."""

from decimal import Decimal

# Every money column: up to 9,999,999,999.99 in the merchant's currency.
MONEY = {"max_digits": 12, "decimal_places": 2}


def format_money(amount: Decimal, currency: str = "") -> str:
    """1234.5, "PHP" → "PHP 1,234.50"; without a currency just "1,234.50"."""
    return f"{currency} {amount:,.2f}".strip()
