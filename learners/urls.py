from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("claim/<str:token>/", views.claim, name="claim"),
]
