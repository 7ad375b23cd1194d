answer = f"CustomerId = '{CUSTOMER}' AND OrderTotal > 100"
answer
