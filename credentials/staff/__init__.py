"""The institution staff's pages: specifications, issued credentials, the dashboard and its
charts, bulk issue and pathways, with their forms.
"""
