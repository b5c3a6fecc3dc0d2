"""The citizen's side of paying a fee (mounted at /portal/payments/)."""

from django.urls import path

from tinhso.payments import portal_views

app_name = "portal_payments"

urlpatterns = [
    path("return", portal_views.payment_return, name="return"),
    path("orders/<str:order_id>/status", portal_views.order_status, name="order_status"),
    path("orders/<str:order_id>/query", portal_views.order_query, name="order_query"),
    path("receipts/<str:receipt_number>.pdf", portal_views.receipt_pdf, name="receipt"),
    path("<str:number>/pay", portal_views.pay, name="pay"),
]
