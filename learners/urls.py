from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
]
