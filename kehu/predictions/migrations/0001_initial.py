"""The prediction models, moved from the segments app: added to the state only. Their tables
(segments_customerprediction, ...) were made by segments 0003 and keep their names and data."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('segments', '0004_predictions_moved_to_their_app'),
        ('customers', '0002_merge_history'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CustomerPrediction',
                    fields=[
                        ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='prediction', serialize=False, to='customers.customer', verbose_name='customer')),
                        ('p_alive', models.FloatField(blank=True, null=True, verbose_name='probability still active')),
                        ('expected_purchases', models.FloatField(blank=True, null=True, verbose_name='expected purchases')),
                        ('expected_order_value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='expected order value')),
                        ('clv', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='predicted lifetime value')),
                        ('value_at_stake', models.DecimalField(db_index=True, decimal_places=2, default=0, max_digits=14, verbose_name='value at stake')),
                        ('churn_risk', models.PositiveSmallIntegerField(db_index=True, default=0, verbose_name='churn risk')),
                        ('churn_level', models.CharField(choices=[('low', 'Low'), ('watch', 'Watch'), ('warning', 'Warning'), ('critical', 'Critical')], db_index=True, default='low', max_length=10, verbose_name='churn level')),
                        ('churn_reasons', models.JSONField(blank=True, default=list, verbose_name='churn reasons')),
                        ('warned_on', models.DateField(blank=True, null=True, verbose_name='warned on')),
                        ('next_action', models.CharField(choices=[('none', 'No action needed'), ('first_purchase', 'Invite to a first purchase'), ('second_purchase', 'Encourage a second purchase'), ('save_vip', 'Call the VIP at risk'), ('win_back', 'Win back with a coupon'), ('check_in', 'Check in by message'), ('reactivate', 'Reactivate the churned customer'), ('resolve_complaint', 'Resolve the open complaint first'), ('thank_loyal', 'Thank and recommend products')], db_index=True, default='none', max_length=20, verbose_name='next best action')),
                        ('next_action_reason', models.JSONField(blank=True, default=dict, verbose_name='why this action')),
                        ('recommended_products', models.JSONField(blank=True, default=list, verbose_name='recommended products')),
                        ('refreshed_at', models.DateTimeField(verbose_name='refreshed at')),
                    ],
                    options={
                        'verbose_name': 'customer prediction',
                        'verbose_name_plural': 'customer predictions',
                        'db_table': 'segments_customerprediction',
                    },
                ),
                migrations.CreateModel(
                    name='PredictionFit',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('fitted_at', models.DateTimeField(db_index=True, verbose_name='fitted at')),
                        ('model', models.CharField(choices=[('bgnbd', 'BG/NBD'), ('paretonbd', 'Pareto/NBD')], max_length=10, verbose_name='purchase model')),
                        ('calibration_end', models.DateField(verbose_name='calibration end')),
                        ('customers', models.PositiveIntegerField(default=0, verbose_name='customers')),
                        ('repeat_buyers', models.PositiveIntegerField(default=0, verbose_name='repeat buyers')),
                        ('purchase_params', models.JSONField(default=dict, verbose_name='purchase model parameters')),
                        ('purchase_log_likelihood', models.FloatField(blank=True, null=True, verbose_name='log-likelihood')),
                        ('spend_params', models.JSONField(default=dict, verbose_name='spend model parameters')),
                        ('spend_log_likelihood', models.FloatField(blank=True, null=True, verbose_name='spend log-likelihood')),
                        ('holdout', models.JSONField(blank=True, default=list, help_text='Predicted and actual repeat purchases by calibration frequency.', verbose_name='holdout comparison')),
                        ('message', models.TextField(blank=True, help_text='Why the models could not be fitted, if so.', verbose_name='message')),
                        ('seconds', models.FloatField(default=0, verbose_name='seconds')),
                    ],
                    options={
                        'verbose_name': 'prediction fit',
                        'verbose_name_plural': 'prediction fits',
                        'db_table': 'segments_predictionfit',
                        'ordering': ['-fitted_at'],
                    },
                ),
                migrations.CreateModel(
                    name='PredictionSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('model', models.CharField(choices=[('bgnbd', 'BG/NBD'), ('paretonbd', 'Pareto/NBD')], default='bgnbd', max_length=10, verbose_name='purchase model')),
                        ('horizon_days', models.PositiveIntegerField(default=90, verbose_name='expected purchases over days')),
                        ('clv_months', models.PositiveIntegerField(default=12, verbose_name='lifetime value over months')),
                        ('annual_discount_rate', models.DecimalField(decimal_places=3, default=0.1, max_digits=4, verbose_name='annual discount rate')),
                        ('weight_p_alive', models.PositiveSmallIntegerField(default=35, verbose_name='weight: model says probably gone')),
                        ('weight_overdue', models.PositiveSmallIntegerField(default=30, verbose_name='weight: silent longer than their usual gap')),
                        ('weight_frequency_drop', models.PositiveSmallIntegerField(default=10, verbose_name='weight: ordering less often')),
                        ('weight_spend_drop', models.PositiveSmallIntegerField(default=10, verbose_name='weight: spending less')),
                        ('weight_fewer_contacts', models.PositiveSmallIntegerField(default=5, verbose_name='weight: fewer contacts')),
                        ('weight_low_satisfaction', models.PositiveSmallIntegerField(default=5, verbose_name='weight: low satisfaction score')),
                        ('weight_open_complaints', models.PositiveSmallIntegerField(default=5, verbose_name='weight: open complaints')),
                        ('watch_threshold', models.PositiveSmallIntegerField(default=40, verbose_name='watch from risk')),
                        ('warning_threshold', models.PositiveSmallIntegerField(default=60, verbose_name='warning from risk')),
                        ('critical_threshold', models.PositiveSmallIntegerField(default=80, verbose_name='critical from risk')),
                        ('notify_level', models.CharField(choices=[('low', 'Low'), ('watch', 'Watch'), ('warning', 'Warning'), ('critical', 'Critical')], default='warning', max_length=10, verbose_name='notify the owner from level')),
                    ],
                    options={
                        'verbose_name': 'prediction settings',
                        'verbose_name_plural': 'prediction settings',
                        'db_table': 'segments_predictionsettings',
                    },
                ),
                migrations.CreateModel(
                    name='ChurnLevelChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('previous_level', models.CharField(blank=True, choices=[('low', 'Low'), ('watch', 'Watch'), ('warning', 'Warning'), ('critical', 'Critical')], max_length=10, verbose_name='from')),
                        ('level', models.CharField(choices=[('low', 'Low'), ('watch', 'Watch'), ('warning', 'Warning'), ('critical', 'Critical')], max_length=10, verbose_name='to')),
                        ('risk', models.PositiveSmallIntegerField(verbose_name='churn risk')),
                        ('changed_on', models.DateField(db_index=True, verbose_name='changed on')),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='churn_level_changes', to='customers.customer', verbose_name='customer')),
                    ],
                    options={
                        'verbose_name': 'churn level change',
                        'verbose_name_plural': 'churn level changes',
                        'db_table': 'segments_churnlevelchange',
                        'ordering': ['-changed_on', '-id'],
                        'indexes': [models.Index(fields=['customer', '-changed_on'], name='segments_ch_custome_8b00f6_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
