NEXT_STAGE = """
workflow.deprecate_patch("fraud-check")  # every order left has the patch's marker
await self.step(check_fraud, order_id)
"""
