"""Officials' pages for fees and payments (mounted at /payments/)."""

from django.urls import path

from tinhso.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.bill_list, name="bill_list"),
    path("bills/<str:number>/cash/", views.bill_cash, name="bill_cash"),
    path("bills/<str:number>/exempt/", views.bill_exempt, name="bill_exempt"),
    path("bills/<str:number>/reissue/", views.bill_reissue, name="bill_reissue"),
    path("bills/<str:number>/fee-case/", views.bill_fee_case, name="bill_fee_case"),
    path("receipts/<str:receipt_number>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("receipts/<str:receipt_number>/refunds/", views.refund_request, name="refund_request"),
    path("refunds/", views.refund_list, name="refund_list"),
    path("refunds/<int:pk>/approve/", views.refund_approve, name="refund_approve"),
    path("refunds/<int:pk>/reject/", views.refund_reject, name="refund_reject"),
    path("reconciliations/", views.reconciliation_list, name="reconciliation_list"),
    path("reconciliations/<int:pk>/", views.reconciliation_detail, name="reconciliation_detail"),
    path("notifications/", views.notification_list, name="notification_list"),
]
