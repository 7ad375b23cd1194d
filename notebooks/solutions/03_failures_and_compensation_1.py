from temporalio.common import RetryPolicy

PAYMENT_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                            maximum_attempts=3,
                            non_retryable_error_types=["CardDeclined"])
