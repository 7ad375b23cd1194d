from temporalio import activity

CONFIRMATION_QUEUE = confirmation_queue()


@activity.defn
async def send_confirmation(order: Order) -> str:
    return f"Confirmation for {order.order_id} sent to {order.customer_id}"


confirmation_worker = Worker(client, task_queue=CONFIRMATION_QUEUE,
                             workflows=[ConfirmationWorkflow], activities=[send_confirmation])
