@activity.defn(name="initiate_delivery")  # the name the workflow calls
async def refused_delivery(order: Order) -> str:
    raise ApplicationError("no carrier can take the parcel", type="DeliveryUnavailable",
                           non_retryable=True, category=ApplicationErrorCategory.BENIGN)


answer = refused_delivery
