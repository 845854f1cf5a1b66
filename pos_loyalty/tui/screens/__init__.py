"""Full screens: the counter, receipts, returns, the back office and a member's page."""
